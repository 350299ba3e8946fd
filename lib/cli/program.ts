import * as E from 'fp-ts/Either';
import { readFileSync } from 'node:fs';
import { pipe } from 'fp-ts/function';
import { Handler } from '../core/handler';
import { ClusteredServer, serveClustered } from '../transports/stream/cluster';
import { serveDatagrams } from '../transports/datagram/server';
import { serveReliableDatagrams } from '../transports/rdm/server';
import { escapeLine, Log, Server } from '../transports/hosting';
import { serverLinesOnly } from '../transports/log/sink';
import { logToStderr, logWritten } from '../transports/log/stderr';
import { metrics } from '../transports/metrics/metrics';
import { failed, logJson, shuttingDown, stamped } from './logFormat';
import { closeBecause, isHandlerFault, ownEventsOf } from '../transports/serverEvents';
import { serve } from '../transports/stream/server';
import {
  AnyConnectOptions,
  AnyServeOptions,
  clientFlags,
  connectOptionsFromFlags,
  Flags,
  FlagValues,
  HelpText,
  parseArgs,
  serveOptionsFromFlags,
  serverFlags,
  usage,
} from './flags';
import { MetricsAddress } from './flagValues';
import { sourceMappedStack } from './handlerModule';
import { launcherNow, watchLauncher } from './launcher';

// What a server program does around its handler: decode the flags (exit 2 with one line naming
// the flag), serve, print `listening on ADDRESS`, and on SIGINT/SIGTERM stop accepting, give open
// connections the grace period, and exit 0.

/** Decoded flags, or exit: 2 with one line for a bad flag, 0 after printing `--help` (or `--version`, if a flag). */
export function argsOrExit<F extends Flags>(
  program: string,
  synopsis: string,
  argv: readonly string[],
  flags: F,
  maxPositional = 0,
  help: HelpText = {},
): { flags: FlagValues<F>; positional: readonly string[] } {
  const parsed = parseArgs(argv, flags, maxPositional);
  if (E.isLeft(parsed)) return exitWith(2, `${program}: ${parsed.left}`);
  const asked = parsed.right.flags as { help?: true; version?: true };
  if (asked.help) exitWith(0, usage(synopsis, flags, help), process.stdout);
  if (asked.version) exitWith(0, packageVersion(), process.stdout);
  return parsed.right;
}

/** rxwire's version, from its package.json (exported as `rxwire/package.json`). */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(require.resolve('rxwire/package.json'), 'utf8')) as { version: string }).version;
}

const serverExitCodes = ['0  stopped by SIGINT or SIGTERM, or after --help', '1  cannot listen (address in use, no permission)', '2  a bad flag'];

/** The server flags, plus a program's own, decoded into server options, or exit as above. */
export function serverArgsOrExit<F extends Flags>(
  program: string,
  argv: readonly string[],
  ownFlags: F = {} as F,
  help: HelpText = {},
): { options: AnyServeOptions; flags: FlagValues<F & typeof serverFlags> } {
  const flags = { ...ownFlags, ...serverFlags };
  const text = { ...help, exitCodes: help.exitCodes ?? serverExitCodes };
  const parsed = argsOrExit(program, `${program} [flags]`, argv, flags, 0, text).flags as FlagValues<F & typeof serverFlags>;
  const options = pipe(
    serveOptionsFromFlags(parsed),
    E.getOrElse((line): AnyServeOptions => exitWith(2, `${program}: ${line}`)),
  );
  const log = serverLog(parsed.quiet === true, parsed.verbose === true, parsed['log-format'] === 'json');
  const logged: AnyServeOptions =
    'udp' in options ? { udp: { ...options.udp, log } } : 'rdm' in options ? { rdm: { ...options.rdm, log } } : { ...options, log };
  return { options: logged, flags: parsed };
}

/**
 * The client flags decoded into client options, and the positional MESSAGE if given, or exit as
 * above. Under --rdm any number of MESSAGEs are taken, in `messages`.
 */
export function clientArgsOrExit(
  program: string,
  argv: readonly string[],
): { options: AnyConnectOptions; message: string | undefined; messages: readonly string[] } {
  const { flags, positional } = argsOrExit(program, `${program} [flags] [MESSAGE] (--rdm: [MESSAGE...])`, argv, clientFlags, Number.MAX_SAFE_INTEGER, {
    exitCodes: ['0  every reply was printed', '1  cannot connect, or no reply', '2  a bad flag'],
  });
  if (!flags.rdm && positional.length > 1) exitWith(2, `${program}: unexpected argument ${JSON.stringify(positional[1])} (see --help)`);
  const options = pipe(
    connectOptionsFromFlags(flags),
    E.getOrElse((line): AnyConnectOptions => exitWith(2, `${program}: ${line}`)),
  );
  return { options, message: positional[0], messages: positional };
}

/** What a server program serves besides its handler, and says about itself besides its log. */
export interface ServeReport {
  /** Print the options it serves with. */
  readonly verbose?: boolean | undefined;
  /** Serve Prometheus metrics there (`--metrics`): with workers, from the primary, summed over them. */
  readonly metrics?: MetricsAddress | undefined;
}

/**
 * Serves until SIGINT or SIGTERM, then closes gracefully and exits 0; exits 1 if it can't listen.
 * Prints `listening on ADDRESS`, the transport first when it isn't plain: `listening on udp [::]:50007`, `listening on rdm …`.
 * With `workers`, this process is the primary and prints that line once every worker listens; in
 * the workers (the same program run again by node:cluster) it serves and prints nothing.
 */
export async function serveUntilSignalled(program: string, options: AnyServeOptions, handler: Handler, report: ServeReport = {}): Promise<void> {
  const launcher = launcherNow();
  const clustered = 'workers' in options && options.workers !== undefined;
  const serving: Promise<Server | ClusteredServer> =
    'udp' in options
      ? serveDatagrams(options.udp, handler)
      : 'rdm' in options
        ? serveReliableDatagrams(options.rdm, handler)
        : clustered
          ? serveClustered({ ...options, ...(report.metrics ? { metrics: report.metrics } : {}) }, handler)
          : serve(options, handler);
  const server = await serving.catch((err: Error) => exitWith(1, `${program}: ${err.message}`));
  // A cluster's primary serves its workers' metrics itself; one process serves its own.
  const endpoint =
    report.metrics &&
    !clustered &&
    (await metrics(server as Server, report.metrics).catch((err: Error) => {
      server.close();
      return exitWith(1, `${program}: metrics: ${err.message}`);
    }));
  const transport = server.transport === 'tcp' || server.transport === 'unix' ? '' : `${server.transport} `;
  process.stdout.write(`listening on ${transport}${server.address}\n`);
  const metricsAddress = endpoint ? endpoint.address : 'metricsAddress' in server ? server.metricsAddress : undefined;
  if (metricsAddress !== undefined) process.stdout.write(`metrics on http://${metricsAddress}/metrics\n`);
  if (report.verbose) stamped(`serving with ${describeOptions(options)}`);
  // The shutdown line goes out under -q too. The server's own events: under -q nothing then asks
  // for those about single connections, and none is built.
  ownEventsOf(server).subscribe((event) => event.type === 'shutdown' && shuttingDown(event));
  let closing = false;
  const shutdown = (reason: string) => {
    if (closing) return;
    closing = true;
    // Scraped through the grace period: the endpoint closes once the server has, every close counted.
    closeBecause(server, reason)
      .then(() => (endpoint ? endpoint.close() : undefined))
      .then(() => logWritten())
      .then(() => process.exit(0));
  };
  // Kept, not once: a launcher and a supervisor may both pass a signal on, and a second one must
  // not kill the process at once, mid-close, with its last log lines still buffered.
  process.on('SIGINT', shutdown).on('SIGTERM', shutdown).on('SIGHUP', shutdown);
  watchLauncher(launcher, () => shutdown('parent exited'));
}

/** Writes `line` (stderr unless told), then exits with `code`. */
export function exitWith(code: number, line: string, stream: NodeJS.WritableStream = process.stderr): never {
  // On stderr, after the log lines still buffered, which the exit writes out.
  if (stream === process.stderr) failed(line);
  else stream.write(`${line}\n`);
  process.exit(code);
}

/**
 * Where a server program's log lines go: stderr, each with an ISO timestamp, or under `json` as
 * pino's JSON records; under `quiet`, only the server's own (the log leaves out those about single
 * connections, by event type); under `verbose`, a handler error's text line is followed by its
 * stack, indented, at the places in a `.ts` module's source (a JSON record carries its stack).
 */
function serverLog(quiet: boolean, verbose: boolean, json: boolean): Log {
  const log: Log = json
    ? logJson()
    : (line, error) => {
        stamped(line);
        if (verbose && error !== undefined && isHandlerFault(error)) logToStderr(stackFrames(error));
      };
  return quiet ? serverLinesOnly(log) : log;
}

/** The `at …` lines of an error's stack, each escaped (a message may quote what a peer sent). */
function stackFrames(error: Error): string {
  const frames = sourceMappedStack(error).split('\n').filter((line) => /^\s+at /.test(line));
  return (frames.length > 0 ? frames : ['    (no stack)']).map(escapeLine).join('\n');
}


// TLS options whose values are keys, certificates or their passphrase: named, never printed.
const KEY_MATERIAL = new Set(['cert', 'key', 'ca', 'pfx', 'passphrase', 'crl']);

/**
 * The options as one line, key material and functions left out: `{"host":"127.0.0.1","port":0,
 * "tls":{"cert":"(hidden)","key":"(hidden)","ca":"(hidden)","requestCert":true,"minVersion":"TLSv1.3"}}`.
 */
function describeOptions(options: AnyServeOptions): string {
  const shown = 'udp' in options ? { udp: true, ...options.udp } : 'rdm' in options ? { rdm: true, ...options.rdm } : options;
  return JSON.stringify(shown, (key, value: unknown) => (KEY_MATERIAL.has(key) ? '(hidden)' : typeof value === 'function' ? undefined : value));
}
