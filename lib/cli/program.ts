import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import { Handler } from '../core/handler';
import { serveDatagrams } from '../transports/datagram/server';
import { serveReliableDatagrams } from '../transports/rdm/server';
import { Server } from '../transports/hosting';
import { serve } from '../transports/stream/server';
import {
  AnyConnectOptions,
  AnyServeOptions,
  clientFlags,
  connectOptionsFromFlags,
  Flags,
  FlagValues,
  parseArgs,
  serveOptionsFromFlags,
  serverFlags,
  usage,
} from './flags';

// What a server program does around its handler: decode the flags (exit 2 with one line naming
// the flag), serve, print `listening on ADDRESS`, and on SIGINT/SIGTERM stop accepting, give open
// connections the grace period, and exit 0.

/** Decoded flags, or exit: 2 with one line for a bad flag, 0 after printing `--help`. */
export function argsOrExit<F extends Flags>(
  program: string,
  synopsis: string,
  argv: readonly string[],
  flags: F,
  maxPositional = 0,
): { flags: FlagValues<F>; positional: readonly string[] } {
  const parsed = parseArgs(argv, flags, maxPositional);
  if (E.isLeft(parsed)) return exitWith(2, `${program}: ${parsed.left}`);
  if ((parsed.right.flags as { help?: true }).help) {
    process.stdout.write(`${usage(synopsis, flags)}\n`);
    process.exit(0);
  }
  return parsed.right;
}

/** The server flags, plus a program's own, decoded into server options, or exit as above. */
export function serverArgsOrExit<F extends Flags>(
  program: string,
  argv: readonly string[],
  ownFlags: F = {} as F,
): { options: AnyServeOptions; flags: FlagValues<F & typeof serverFlags> } {
  const flags = { ...ownFlags, ...serverFlags };
  const parsed = argsOrExit(program, `${program} [flags]`, argv, flags).flags as FlagValues<F & typeof serverFlags>;
  const options = pipe(
    serveOptionsFromFlags(parsed),
    E.getOrElse((line): AnyServeOptions => exitWith(2, `${program}: ${line}`)),
  );
  return { options, flags: parsed };
}

/**
 * The client flags decoded into client options, and the positional MESSAGE if given, or exit as
 * above. Under --rdm any number of MESSAGEs are taken, in `messages`.
 */
export function clientArgsOrExit(
  program: string,
  argv: readonly string[],
): { options: AnyConnectOptions; message: string | undefined; messages: readonly string[] } {
  const { flags, positional } = argsOrExit(program, `${program} [flags] [MESSAGE] (--rdm: [MESSAGE...])`, argv, clientFlags, Number.MAX_SAFE_INTEGER);
  if (!flags.rdm && positional.length > 1) exitWith(2, `${program}: unexpected argument ${JSON.stringify(positional[1])} (see --help)`);
  const options = pipe(
    connectOptionsFromFlags(flags),
    E.getOrElse((line): AnyConnectOptions => exitWith(2, `${program}: ${line}`)),
  );
  return { options, message: positional[0], messages: positional };
}

/**
 * Serves until SIGINT or SIGTERM, then closes gracefully and exits 0; exits 1 if it can't listen.
 * Prints `listening on ADDRESS`, the transport first when it isn't plain: `listening on udp [::]:50007`, `listening on rdm …`.
 */
export async function serveUntilSignalled(program: string, options: AnyServeOptions, handler: Handler): Promise<void> {
  const serving = 'udp' in options ? serveDatagrams(options.udp, handler) : 'rdm' in options ? serveReliableDatagrams(options.rdm, handler) : serve(options, handler);
  const server: Server = await serving.catch((err: Error) => exitWith(1, `${program}: ${err.message}`));
  const transport = server.transport === 'tcp' || server.transport === 'unix' ? '' : `${server.transport} `;
  process.stdout.write(`listening on ${transport}${server.address}\n`);
  let closing = false;
  const shutdown = (reason: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`${reason}: closing, ${server.connections} connection(s) open\n`);
    server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown).once('SIGTERM', shutdown).once('SIGHUP', shutdown);
  watchParent(() => shutdown('parent exited'));
}

// How often a server checks that the process that started it is still there.
const PARENT_CHECK_MS = 500;

/**
 * Calls `gone` once the process that started this one has exited. A launcher (`npx`, a shell it
 * runs) may die of a signal without passing it on; a server left behind would keep accepting.
 */
function watchParent(gone: () => void): void {
  const parent = process.ppid;
  const check = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(check);
    gone();
  }, PARENT_CHECK_MS);
  check.unref();
}

export function exitWith(code: number, line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(code);
}
