import { BlockList, isIP } from 'node:net';
import * as t from 'io-ts';
import { LogOption, NonEmptyString, Port, strictOptions, wholeNumber } from '../../core/options';

/** PEM text (a certificate, a key, a CA), as a string or as the Buffer `readFileSync` gives. */
export const Pem = new t.Type<string | Buffer, string | Buffer, unknown>(
  'PEM text',
  (u): u is string | Buffer => (typeof u === 'string' && u.length > 0) || Buffer.isBuffer(u),
  (u, c) =>
    (typeof u === 'string' && u.length > 0) || Buffer.isBuffer(u) ? t.success(u) : t.failure(u, c, 'expected PEM text as a string or Buffer'),
  (pem) => pem,
);

/** The longest Unix socket path, in bytes: Linux's `sun_path` holds 108 with the closing NUL; a longer path would be silently truncated. */
export const MAX_UNIX_PATH_BYTES = 107;

/** A Unix domain socket path that fits `sun_path` as it is. */
export const UnixSocketPath = new t.Type<string, string, unknown>(
  `a Unix socket path of at most ${MAX_UNIX_PATH_BYTES} bytes`,
  (u): u is string => typeof u === 'string' && u.length > 0 && Buffer.byteLength(u) <= MAX_UNIX_PATH_BYTES,
  (u, c) => {
    if (typeof u !== 'string' || u.length === 0) return t.failure(u, c, 'expected a non-empty string');
    const bytes = Buffer.byteLength(u);
    if (bytes <= MAX_UNIX_PATH_BYTES) return t.success(u);
    return t.failure(u, c, `a Unix socket path of ${bytes} bytes is too long: at most ${MAX_UNIX_PATH_BYTES} (the OS's sun_path limit)`);
  },
  (s) => s,
);

/** `serve({ tls })`: the server's certificate and key; `ca` and `requestCert` to ask clients for theirs. */
export const ServerTlsOptions = strictOptions({ cert: Pem, key: Pem }, { ca: Pem, requestCert: t.boolean });
export type ServerTlsOptions = t.TypeOf<typeof ServerTlsOptions>;

/** `connect({ tls })`: whom to trust (`ca`; default the system's CAs), and a certificate of our own if asked. */
export const ClientTlsOptions = strictOptions(
  {},
  {
    ca: Pem,
    cert: Pem,
    key: Pem,
    /** The name the server's certificate must carry; default the host, when it is a name. */
    servername: NonEmptyString,
    /** Refuse a server whose certificate is not trusted. Default true. */
    rejectUnauthorized: t.boolean,
  },
);
export type ClientTlsOptions = t.TypeOf<typeof ClientTlsOptions>;

/** An IP address (`127.0.0.1`, `::1`) or a subnet in CIDR form (`10.0.0.0/8`, `fd00::/8`). */
export const AddressOrSubnet = new t.Type<string, string, unknown>(
  'an IP address or CIDR subnet',
  (u): u is string => typeof u === 'string' && parseSubnet(u) !== undefined,
  (u, c) => (typeof u === 'string' && parseSubnet(u) !== undefined ? t.success(u) : t.failure(u, c, 'expected an IP address or CIDR subnet')),
  (s) => s,
);

function parseSubnet(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = text.split('/');
  const version = isIP(address);
  const bits = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (version === 0 || extra !== undefined || !(prefix >= 0 && prefix <= bits)) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The addresses of `entries` (each valid for `AddressOrSubnet`) as a BlockList to check peers against. */
export function addressList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const { address, prefix, family } = parseSubnet(entry)!;
    list.addSubnet(address, prefix, family);
  }
  return list;
}

/** `serve({ proxyProtocol })`: who may send a PROXY header, and its limits. */
export const ProxyProtocolOptions = strictOptions(
  {},
  {
    /** Peers that may send a header (addresses or subnets); any other is refused at once. Default loopback only. */
    allow: t.array(AddressOrSubnet),
    /** A header not fully arrived within this long ends its connection. Default 5 s. */
    timeoutMs: wholeNumber(1),
    /** The largest v2 header taken, TLVs included (v1 lines are at most 107 bytes). Default 1 KiB. */
    maxHeaderBytes: wholeNumber(16, 16 + 65535),
  },
);
export type ProxyProtocolOptions = t.TypeOf<typeof ProxyProtocolOptions>;

// Not a t.union: its error would name only its first member (`expected true`), never the bad key inside the options.
const ProxyProtocolOption = new t.Type<true | ProxyProtocolOptions, unknown, unknown>(
  'true or PROXY protocol options',
  (u): u is true | ProxyProtocolOptions => u === true || ProxyProtocolOptions.is(u),
  (u, c) =>
    u === true ? t.success(true) : typeof u === 'object' && u !== null ? ProxyProtocolOptions.validate(u, c) : t.failure(u, c, 'expected true or an options object'),
  (value) => value,
);

/** `serve()`'s options, each key's codec: `serveClustered()` takes them too. */
export const serveOptionCodecs = {
  /** Interface to bind; none = every interface, IPv6 and IPv4 (dual-stack). */
  host: NonEmptyString,
  /** TCP port; 0 = any free port. */
  port: Port,
  /** Unix domain socket path, instead of host and port. */
  path: UnixSocketPath,
  /** Connections the OS may queue before they are accepted. */
  backlog: wholeNumber(1),
  /** End a connection once no bytes have moved either way for this long; 0 = never (the default). */
  idleMs: wholeNumber(0),
  /** Connections past this many are closed at once, before any reply. */
  maxConnections: wholeNumber(1),
  /** Connections from one address past this many are closed at once. */
  maxConnectionsPerAddress: wholeNumber(1),
  /** A TLS handshake not done within this long is abandoned. Default 10 s. */
  handshakeTimeoutMs: wholeNumber(1),
  /** After the server has ended a connection, how long the peer may go without progress. Default 5 s. */
  lingerMs: wholeNumber(1),
  /** Bytes all connections together may hold in decoders and pending output. Default 256 MiB. */
  maxBufferedBytes: wholeNumber(1),
  /** On close, how long open connections may go on before they are destroyed. */
  graceMs: wholeNumber(0),
  /** Bytes of pending output at which `backpressure()` holds reads. */
  highWaterMark: wholeNumber(1),
  /** Serve TLS instead of plain TCP (or over the Unix socket). */
  tls: ServerTlsOptions,
  /**
   * Every connection starts with a PROXY protocol header (v1 or v2, as HAProxy's `send-proxy`
   * sends, before any TLS): the connection's addresses are the ones it carries. `true` for the defaults.
   */
  proxyProtocol: ProxyProtocolOption,
  /** Where log lines go; false for none. Default: stderr. */
  log: LogOption,
};

export const ServeOptions = strictOptions({}, serveOptionCodecs);
export type ServeOptions = t.TypeOf<typeof ServeOptions>;

export const ConnectOptions = strictOptions(
  {},
  {
    host: NonEmptyString,
    port: Port,
    /** Unix domain socket path, instead of host and port. */
    path: UnixSocketPath,
    /** Give up on an attempt when the connection (and TLS handshake) is not made within this long. Default 10 s. */
    timeoutMs: wholeNumber(1),
    /** Connect over TLS; `{}` trusts the system's CAs. */
    tls: ClientTlsOptions,
    /** Try again after a failed attempt, up to `count` times, waiting `delayMs`, then twice as long each time. */
    retry: strictOptions({ count: wholeNumber(0), delayMs: wholeNumber(0) }, {}),
  },
);
export type ConnectOptions = t.TypeOf<typeof ConnectOptions>;
