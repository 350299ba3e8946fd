import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import * as util from 'node:util';
import { DEFAULTS } from '../core/defaults';
import { closestKey, formatErrors, NonEmptyString, oneOfStrings } from '../core/options';
import type { ClusteredServeOptions } from '../transports/stream/cluster';
import type { ConnectDatagramOptions, DatagramServeOptions } from '../transports/datagram/options';
import type { ConnectReliableDatagramOptions, ReliableDatagramServeOptions } from '../transports/rdm/options';
import { ConnectOptions, ServeOptions, ServerTlsOptions, UnixSocketPath } from '../transports/stream/options';
import { metricsAddressFromString, pemFile, wholeNumberFromString, workerCountFromString } from './flagValues';

/** One command-line flag: how its value decodes, and its line in `--help`. */
export interface Flag<A = unknown> {
  readonly codec: t.Decoder<unknown, A>;
  readonly help: string;
  /** What the value looks like in `--help` (`N`, `PATH`); none for a switch, which takes no value. */
  readonly value?: string;
  /** A one-letter alias: `q` for `-q`. */
  readonly short?: string;
}

export type Flags = Record<string, Flag<unknown>>;
export type FlagValues<F extends Flags> = { -readonly [K in keyof F]?: F[K] extends Flag<infer A> ? A : never };

export interface ParsedArgs<F extends Flags> {
  readonly flags: FlagValues<F>;
  readonly positional: readonly string[];
}

const present = t.literal(true);

export function option<A>(codec: t.Decoder<unknown, A>, value: string, help: string): Flag<A> {
  return { codec, value, help };
}

export function toggle(help: string, short?: string): Flag<true> {
  return short === undefined ? { codec: present, help } : { codec: present, help, short };
}

/**
 * Reads `--name value`, `--name=value`, switches and their one-letter aliases (`-q`, `-qv`), the
 * tokens split by node:util's parseArgs; every value is decoded by its flag's codec. Left is one
 * line naming the flag: `--port: expected a whole number from 0 to 65535, got "abc"`.
 */
export function parseArgs<F extends Flags>(
  argv: readonly string[],
  flags: F,
  maxPositional = 0,
): E.Either<string, ParsedArgs<F>> {
  const config = Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => [
      name,
      { type: flag.value === undefined ? ('boolean' as const) : ('string' as const), ...(flag.short ? { short: flag.short } : {}) },
    ]),
  );
  // Not strict: unknown flags and missing values come back as tokens, to be told in our words.
  const { tokens } = util.parseArgs({ args: [...argv], options: config, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, unknown> = {};
  const positional: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') positional.push(token.value);
    if (token.kind !== 'option') continue;
    const flag = Object.prototype.hasOwnProperty.call(flags, token.name) ? flags[token.name] : undefined;
    if (!flag) {
      const meant = token.rawName.startsWith('--') ? closestKey(token.name, Object.keys(flags)) : undefined;
      return E.left(`unknown flag ${token.rawName} (${meant ? `did you mean --${meant}? ` : ''}see --help)`);
    }
    const name = `--${token.name}`;
    if (flag.value === undefined && token.value !== undefined) return E.left(`${name}: takes no value, got ${JSON.stringify(token.value)}`);
    // parseArgs takes the next argument as the value even when it is another flag.
    if (flag.value !== undefined && (token.value === undefined || (!token.inlineValue && token.value.startsWith('--')))) {
      return E.left(`${name}: expected ${flag.value}, got nothing`);
    }
    const decoded = flag.codec.decode(token.value ?? true);
    if (E.isLeft(decoded)) return E.left(formatErrors(decoded.left, () => name));
    values[token.name] = decoded.right;
  }
  if (positional.length > maxPositional) {
    return E.left(`unexpected argument ${JSON.stringify(positional[maxPositional])} (see --help)`);
  }
  return E.right({ flags: values as FlagValues<F>, positional });
}

/** What `--help` says besides the flags: a line on what the program does, examples, exit codes. */
export interface HelpText {
  readonly about?: string;
  readonly examples?: readonly string[];
  readonly exitCodes?: readonly string[];
}

/** The `--help` text: a usage line, then one line per flag, then examples and exit codes. */
export function usage(synopsis: string, flags: Flags, text: HelpText = {}): string {
  const rows = Object.entries(flags).map(([name, flag]) => [
    `${flag.short ? `-${flag.short}, ` : '    '}--${name}${flag.value ? ` ${flag.value}` : ''}`,
    flag.help,
  ]);
  const width = Math.max(...rows.map(([left]) => left!.length));
  const section = (title: string, lines: readonly string[] | undefined) => (lines?.length ? ['', `${title}:`, ...lines.map((l) => `  ${l}`)] : []);
  return [
    `usage: ${synopsis}`,
    ...(text.about ? ['', text.about] : []),
    '',
    'flags:',
    ...rows.map(([left, help]) => `  ${left!.padEnd(width)}  ${help}`),
    ...section('examples', text.examples),
    ...section('exit codes', text.exitCodes),
  ].join('\n');
}

const serverPort = wholeNumberFromString(0, 65535);

/** The server's flags, shared by `examples/upper.ts` and the `rxwire` command. */
export const serverFlags = {
  port: option(serverPort, 'N', `TCP (or UDP) port; 0 = any free port (default: the PORT environment variable if set, else ${DEFAULTS.port})`),
  host: option(NonEmptyString, 'HOST', 'interface to bind (default: all interfaces, IPv6 and IPv4)'),
  unix: option(UnixSocketPath, 'PATH', 'serve on a Unix domain socket instead of TCP'),
  udp: toggle('serve UDP instead: each peer a session, each datagram answered to its sender'),
  rdm: toggle('serve reliable datagrams over UDP instead: each message delivered once, acknowledged, retransmitted until it is'),
  'tls-cert': option(pemFile('CERTIFICATE'), 'FILE', 'serve TLS with this PEM certificate (with --tls-key)'),
  'tls-key': option(pemFile('PRIVATE KEY'), 'FILE', 'the PEM private key of --tls-cert'),
  'tls-ca': option(pemFile('CERTIFICATE'), 'FILE', 'mutual TLS: ask each client for a certificate, and serve only those this PEM CA certificate signed'),
  'tls-min-version': option(oneOfStrings(['TLSv1.2', 'TLSv1.3'] as const), 'VERSION', 'the oldest TLS version served: TLSv1.2 (the default) or TLSv1.3'),
  'idle-ms': option(
    wholeNumberFromString(0),
    'N',
    `close a connection after N ms with no bytes either way, 0 = never (default ${DEFAULTS.commandIdleMs}; UDP: expire a peer silent for N ms, default ${DEFAULTS.datagramIdleMs})`,
  ),
  'max-connections': option(wholeNumberFromString(1), 'N', 'close connections past N at once, before any reply; per worker with --workers (UDP: drop datagrams from peers past N)'),
  'max-connections-per-address': option(wholeNumberFromString(1), 'N', 'close connections from one address past N at once; per worker with --workers'),
  'max-buffered-bytes': option(
    wholeNumberFromString(1),
    'N',
    `bytes all connections together may hold in decoders and pending output (--rdm: in inboxes and unacknowledged messages); past it a connection is ended (default ${DEFAULTS.maxBufferedBytes})`,
  ),
  'grace-ms': option(wholeNumberFromString(0), 'N', `on SIGINT/SIGTERM, let open connections finish for N ms (default ${DEFAULTS.graceMs})`),
  backlog: option(wholeNumberFromString(1), 'N', 'connections the OS may queue before they are accepted'),
  workers: option(
    workerCountFromString,
    'N|auto',
    'serve from N worker processes sharing the port (node:cluster), auto = one per core; a worker that dies is restarted (TCP and TLS only)',
  ),
  metrics: option(
    metricsAddressFromString,
    '[HOST:]PORT',
    'serve Prometheus metrics at http://HOST:PORT/metrics (no HOST: every interface); with --workers, the sum over the workers, from the primary',
  ),
  'proxy-protocol': toggle('every connection starts with a PROXY header (v1 or v2, as HAProxy sends), from a loopback peer only: its addresses are the connection\'s'),
  'log-format': option(
    oneOfStrings(['text', 'json'] as const),
    'FORMAT',
    "text (the default: a line per event, ISO time first) or json (a JSON object per line, as pino writes them: level, time, msg and the event's fields)",
  ),
  quiet: toggle('no line per connection: only listening, failures of the server itself, and shutdown', 'q'),
  verbose: toggle("also print the handler, the options it is served with, and each handler error's stack", 'v'),
  help: toggle('print this help and exit', 'h'),
} satisfies Flags;

/** What the server flags ask for: `serve()` options (`serveClustered()`'s with `workers`), or under `udp`, `serveDatagrams()` options. */
export type AnyServeOptions = ServeOptions | ClusteredServeOptions | { readonly udp: DatagramServeOptions } | { readonly rdm: ReliableDatagramServeOptions };

/**
 * Server options from decoded server flags; Left when flags contradict each other. Without
 * `--port` (and `--unix`), the `PORT` environment variable is the port, as a platform that runs
 * twelve-factor apps sets it; a bad one is Left too.
 */
export function serveOptionsFromFlags(flags: FlagValues<typeof serverFlags>, env: Readonly<Record<string, string | undefined>> = process.env): E.Either<string, AnyServeOptions> {
  if (flags.unix !== undefined && (flags.port !== undefined || flags.host !== undefined)) {
    return E.left(`--unix: cannot be combined with --port or --host`);
  }
  if (flags.port === undefined && flags.unix === undefined && env['PORT'] !== undefined && env['PORT'] !== '') {
    const port = serverPort.decode(env['PORT']);
    if (E.isLeft(port)) return E.left(formatErrors(port.left, () => 'PORT (environment)'));
    flags = { ...flags, port: port.right };
  }
  const cert = flags['tls-cert'];
  const key = flags['tls-key'];
  if (cert !== undefined && key === undefined) return E.left('--tls-cert: needs --tls-key too');
  if (key !== undefined && cert === undefined) return E.left('--tls-key: needs --tls-cert too');
  for (const flag of ['tls-ca', 'tls-min-version'] as const) {
    if (flags[flag] !== undefined && cert === undefined) return E.left(`--${flag}: needs --tls-cert and --tls-key too`);
  }
  if (flags.quiet && flags.verbose) return E.left('--quiet: cannot be combined with --verbose');
  if (flags.workers !== undefined && flags.unix !== undefined) return E.left('--workers: cannot be combined with --unix (a Unix socket is served from one process)');
  if (flags.udp || flags.rdm) {
    const name = flags.udp ? '--udp' : '--rdm';
    const conflicting: [unknown, string][] = [
      [flags.udp && flags.rdm, '--rdm'],
      [flags.unix, '--unix'],
      [cert, '--tls-cert'],
      [flags.backlog, '--backlog'],
      [flags['max-connections-per-address'], '--max-connections-per-address'],
      [flags['proxy-protocol'], '--proxy-protocol'],
      [flags.workers, '--workers'],
      [flags.udp ? flags['max-buffered-bytes'] : undefined, '--max-buffered-bytes'],
    ];
    const other = conflicting.find(([value]) => value !== undefined && value !== false)?.[1];
    if (other) return E.left(`${name}: cannot be combined with ${other}`);
    if (flags['idle-ms'] === 0) return E.left(`--idle-ms: 0 (never) is not possible with ${name}, where a silent peer can only be expired`);
    const datagram = {
      host: flags.host,
      port: flags.port ?? DEFAULTS.port,
      idleMs: flags['idle-ms'],
      maxPeers: flags['max-connections'],
      graceMs: flags['grace-ms'] ?? DEFAULTS.graceMs,
    };
    return E.right(flags.udp ? { udp: datagram } : { rdm: { ...datagram, ...maxBufferedBytes(flags) } });
  }
  return E.right({
    ...(flags.unix !== undefined ? { path: flags.unix } : { host: flags.host, port: flags.port ?? DEFAULTS.port }),
    ...(cert !== undefined && key !== undefined ? { tls: serverTls(cert, key, flags['tls-ca'], flags['tls-min-version']) } : {}),
    idleMs: flags['idle-ms'] ?? DEFAULTS.commandIdleMs,
    maxConnections: flags['max-connections'],
    maxConnectionsPerAddress: flags['max-connections-per-address'],
    graceMs: flags['grace-ms'] ?? DEFAULTS.graceMs,
    backlog: flags.backlog,
    ...maxBufferedBytes(flags),
    ...(flags['proxy-protocol'] ? { proxyProtocol: true as const } : {}),
    ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
  });
}

/** `serve({ tls })` from the TLS flags: `--tls-ca` asks clients for a certificate that CA signed. */
function serverTls(cert: Buffer, key: Buffer, ca: Buffer | undefined, minVersion: 'TLSv1.2' | 'TLSv1.3' | undefined): ServerTlsOptions {
  return { cert, key, ...(ca !== undefined ? { ca, requestCert: true, rejectUnauthorized: true } : {}), ...(minVersion !== undefined ? { minVersion } : {}) };
}

/** `maxBufferedBytes` when --max-buffered-bytes is given: left out otherwise, so the server's default holds. */
function maxBufferedBytes(flags: FlagValues<typeof serverFlags>): { maxBufferedBytes?: number } {
  return flags['max-buffered-bytes'] !== undefined ? { maxBufferedBytes: flags['max-buffered-bytes'] } : {};
}

/** The client's flags, for `examples/client.ts`. */
export const clientFlags = {
  host: option(NonEmptyString, 'HOST', `server to connect to (default ${DEFAULTS.clientHost})`),
  port: option(wholeNumberFromString(0, 65535), 'N', `server port (default ${DEFAULTS.port})`),
  unix: option(UnixSocketPath, 'PATH', 'connect to a Unix domain socket instead of TCP'),
  udp: toggle('send MESSAGE as one datagram and print the first reply'),
  rdm: toggle('send each MESSAGE as one reliable datagram and print each reply as it comes'),
  tls: toggle("connect over TLS, trusting the system's CAs"),
  'tls-ca': option(pemFile('CERTIFICATE'), 'FILE', "with --tls, trust this PEM certificate (a self-signed server's) instead of the system's CAs"),
  'timeout-ms': option(wholeNumberFromString(1), 'N', `give up if the connection is not made (UDP: no reply comes) within N ms (default ${DEFAULTS.connectTimeoutMs})`),
  help: toggle('print this help and exit', 'h'),
} satisfies Flags;

/** What the client flags ask for: `connect()` options, or under `udp`, `connectDatagram()` options. */
export type AnyConnectOptions = ConnectOptions | { readonly udp: ConnectDatagramOptions } | { readonly rdm: ConnectReliableDatagramOptions };

/** Client options from decoded client flags; Left when flags contradict each other. */
export function connectOptionsFromFlags(flags: FlagValues<typeof clientFlags>): E.Either<string, AnyConnectOptions> {
  if (flags.unix !== undefined && (flags.port !== undefined || flags.host !== undefined)) {
    return E.left(`--unix: cannot be combined with --port or --host`);
  }
  if (flags['tls-ca'] !== undefined && !flags.tls) return E.left('--tls-ca: needs --tls too');
  if (flags.udp || flags.rdm) {
    const name = flags.udp ? '--udp' : '--rdm';
    const other = flags.udp && flags.rdm ? '--rdm' : flags.unix !== undefined ? '--unix' : flags.tls ? '--tls' : undefined;
    if (other) return E.left(`${name}: cannot be combined with ${other}`);
    const datagram = { host: flags.host, port: flags.port, timeoutMs: flags['timeout-ms'] };
    return E.right(flags.udp ? { udp: datagram } : { rdm: datagram });
  }
  return E.right({
    ...(flags.unix !== undefined ? { path: flags.unix } : { host: flags.host, port: flags.port }),
    ...(flags.tls ? { tls: flags['tls-ca'] !== undefined ? { ca: flags['tls-ca'] } : {} } : {}),
    timeoutMs: flags['timeout-ms'],
  });
}
