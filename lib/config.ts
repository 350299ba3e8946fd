import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import * as t from 'io-ts';
import { readFileSync } from 'node:fs';

// ---- Errors as one line -------------------------------------------------------------------

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return 'function';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The path to the value an io-ts error is about, as `.a.b[2]`: keys that only name a member of
 * a union or an intersection are left out, since the data has no such step.
 */
export function errorPath(context: t.Context): string {
  let path = '';
  for (let i = 1; i < context.length; i++) {
    const parent = context[i - 1].type;
    if (parent instanceof t.UnionType || parent instanceof t.IntersectionType) continue;
    const key = context[i].key;
    path += /^\d+$/.test(key) && (parent instanceof t.ArrayType || parent instanceof t.TupleType) ? `[${key}]` : `.${key}`;
  }
  return path;
}

/** One readable line for the first failure: `.a: expected number, got "x"`. */
export function formatErrors(errors: t.Errors, name: (path: string) => string = (path) => path): string {
  const [first] = errors;
  if (!first) return 'invalid value';
  const expected = first.message ?? `expected ${first.context[first.context.length - 1].type.name}`;
  const where = name(errorPath(first.context));
  return `${where ? `${where}: ` : ''}${expected}, got ${describe(first.value)}`;
}

/** Decodes `value` or throws a TypeError whose message is the one line from `formatErrors`. */
export function decodeOrThrow<A, O>(codec: t.Type<A, O, unknown>, value: unknown, what: string): A {
  return pipe(
    codec.decode(value),
    E.getOrElseW((errors) => {
      throw new TypeError(`${what}${formatErrors(errors)}`);
    }),
  );
}

// ---- Numbers --------------------------------------------------------------------------------

/** A whole number from `min` to `max`, given as a number. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): t.Type<number, number, unknown> {
  const expected = max === Number.MAX_SAFE_INTEGER ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
  return new t.Type<number, number, unknown>(
    expected,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max,
    (u, c) =>
      typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max
        ? t.success(u)
        : t.failure(u, c, `expected ${expected}`),
    (n) => n,
  );
}

/** The same whole number, given as a command-line string such as `"50007"`. */
export function wholeNumberFromString(min: number, max?: number): t.Type<number, string, unknown> {
  const number = wholeNumber(min, max);
  return new t.Type<number, string, unknown>(
    number.name,
    number.is,
    (u, c) =>
      typeof u === 'string' && /^[+-]?\d+$/.test(u) && number.is(Number(u))
        ? t.success(Number(u))
        : t.failure(u, c, `expected ${number.name}`),
    String,
  );
}

export const Port = wholeNumber(0, 65535);
export const NonEmptyString = new t.Type<string, string, unknown>(
  'a non-empty string',
  (u): u is string => typeof u === 'string' && u.length > 0,
  (u, c) => (typeof u === 'string' && u.length > 0 ? t.success(u) : t.failure(u, c, 'expected a non-empty string')),
  (s) => s,
);

// ---- TLS --------------------------------------------------------------------------------------

/** PEM text (a certificate, a key, a CA), as a string or as the Buffer `readFileSync` gives. */
export const Pem = new t.Type<string | Buffer, string | Buffer, unknown>(
  'PEM text',
  (u): u is string | Buffer => (typeof u === 'string' && u.length > 0) || Buffer.isBuffer(u),
  (u, c) =>
    (typeof u === 'string' && u.length > 0) || Buffer.isBuffer(u) ? t.success(u) : t.failure(u, c, 'expected PEM text as a string or Buffer'),
  (pem) => pem,
);

/**
 * A command-line path, decoded to the PEM text of the file it names, read at once (at startup):
 * `pemFile('CERTIFICATE')`, `pemFile('PRIVATE KEY')`. The file must hold such a PEM block.
 */
export function pemFile(block: 'CERTIFICATE' | 'PRIVATE KEY'): t.Type<Buffer, Buffer, unknown> {
  // Keys come as `PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`.
  const begins = new RegExp(`-----BEGIN ([A-Z]+ )?${block}-----`);
  return new t.Type<Buffer, Buffer, unknown>(
    `a PEM file holding a ${block}`,
    Buffer.isBuffer,
    (u, c) => {
      if (typeof u !== 'string' || u.length === 0) return t.failure(u, c, 'expected a readable PEM file');
      let text: Buffer;
      try {
        text = readFileSync(u);
      } catch {
        return t.failure(u, c, 'expected a readable PEM file');
      }
      return begins.test(text.toString('latin1')) ? t.success(text) : t.failure(u, c, `expected a PEM file holding a ${block}`);
    },
    (pem) => pem,
  );
}

/** `serve({ tls })`: the server's certificate and key; `ca` and `requestCert` to ask clients for theirs. */
export const ServerTlsOptions = t.intersection([
  t.type({ cert: Pem, key: Pem }),
  t.partial({ ca: Pem, requestCert: t.boolean }),
]);
export type ServerTlsOptions = t.TypeOf<typeof ServerTlsOptions>;

/** `connect({ tls })`: whom to trust (`ca`; default the system's CAs), and a certificate of our own if asked. */
export const ClientTlsOptions = t.partial({
  ca: Pem,
  cert: Pem,
  key: Pem,
  /** The name the server's certificate must carry; default the host, when it is a name. */
  servername: NonEmptyString,
  /** Refuse a server whose certificate is not trusted. Default true. */
  rejectUnauthorized: t.boolean,
});
export type ClientTlsOptions = t.TypeOf<typeof ClientTlsOptions>;

const LogOption = t.union([t.Function, t.literal(false)]);
type LogOption = ((line: string) => void) | false;

// ---- serve() options ------------------------------------------------------------------------

export const ServeOptions = t.partial({
  /** Interface to bind; none = every interface, IPv6 and IPv4 (dual-stack). */
  host: NonEmptyString,
  /** TCP port; 0 = any free port. */
  port: Port,
  /** Unix domain socket path, instead of host and port. */
  path: NonEmptyString,
  /** Connections the OS may queue before they are accepted. */
  backlog: wholeNumber(1),
  /** End a connection once no bytes have moved either way for this long. */
  idleMs: wholeNumber(1),
  /** Connections past this many are closed at once, before any reply. */
  maxConnections: wholeNumber(1),
  /** On close, how long open connections may go on before they are destroyed. */
  graceMs: wholeNumber(0),
  /** Bytes of pending output at which `backpressure()` holds reads. */
  highWaterMark: wholeNumber(1),
  /** Serve TLS instead of plain TCP (or over the Unix socket). */
  tls: ServerTlsOptions,
  /** Where log lines go; false for none. Default: stderr. */
  log: LogOption,
});
export type ServeOptions = Omit<t.TypeOf<typeof ServeOptions>, 'log'> & { log?: LogOption };

// ---- serveDatagrams() options ---------------------------------------------------------------

export const DatagramServeOptions = t.partial({
  /** Interface to bind; none = every interface, IPv6 and IPv4 (`::`, dual-stack). */
  host: NonEmptyString,
  /** UDP port; 0 = any free port. */
  port: Port,
  /** The socket's family; default from `host` (an IPv4 address or a name that resolves to one: udp4). */
  type: t.keyof({ udp4: null, udp6: null }),
  /** A peer that sends nothing for this long is expired: its input completes. Default 30 s. */
  idleMs: wholeNumber(1),
  /** Peers served at once; datagrams from further peers are dropped and counted. Default 10,000. */
  maxPeers: wholeNumber(1),
  /** Longest datagram the handler may send; a longer one ends its peer's session. Default 65,507. */
  maxDatagram: wholeNumber(1, 65535),
  /** On close, how long peers' sessions may go on before they are ended. */
  graceMs: wholeNumber(0),
  /** Where log lines go; false for none. Default: stderr. */
  log: LogOption,
});
export type DatagramServeOptions = Omit<t.TypeOf<typeof DatagramServeOptions>, 'log'> & { log?: LogOption };
