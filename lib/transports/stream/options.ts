import { BlockList, isIP, type ServerOpts } from 'node:net';
import type * as tls from 'node:tls';
import * as t from 'io-ts';
import { NonEmptyString, oneOfStrings, passThroughOptions, Port, serverLogKeys, strictOptions, wholeNumber } from '../../core/options';

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

/** Key material as Node takes it: PEM text or bytes, or an array of them (a chain; keys as `{ pem, passphrase }` too). */
const KeyMaterial = new t.Type<unknown, unknown, unknown>(
  'key material',
  (u): u is unknown => Pem.is(u) || (Array.isArray(u) && u.length > 0),
  (u, c) =>
    Pem.is(u) || (Array.isArray(u) && u.length > 0) ? t.success(u) : t.failure(u, c, 'expected PEM text as a string or Buffer, or an array of them'),
  (u) => u,
);

const TlsVersion = oneOfStrings(['TLSv1.3', 'TLSv1.2', 'TLSv1.1', 'TLSv1'] as const);

/** ALPN protocol names in order of preference: `['h2', 'http/1.1']` (or Node's wire-format bytes). */
const AlpnProtocols = new t.Type<string[] | Uint8Array, unknown, unknown>(
  'ALPN protocol names',
  (u): u is string[] | Uint8Array => isAlpnList(u),
  (u, c) => (isAlpnList(u) ? t.success(u) : t.failure(u, c, "expected an array of protocol names, such as ['h2', 'http/1.1']")),
  (u) => u,
);

function isAlpnList(u: unknown): u is string[] | Uint8Array {
  return u instanceof Uint8Array || (Array.isArray(u) && u.length > 0 && u.every((p) => (typeof p === 'string' && p.length > 0) || p instanceof Uint8Array));
}

// The names of Node's tls.createSecureContext() options (Node 20), which both ends take.
const SECURE_CONTEXT = [
  'ALPNCallback', 'allowPartialTrustChain', 'ca', 'cert', 'sigalgs', 'ciphers', 'clientCertEngine', 'crl', 'dhparam', 'ecdhCurve',
  'honorCipherOrder', 'key', 'privateKeyEngine', 'privateKeyIdentifier', 'maxVersion', 'minVersion', 'passphrase', 'pfx',
  'secureOptions', 'secureProtocol', 'sessionIdContext', 'ticketKeys', 'sessionTimeout',
];
// tls.createServer()'s own, and tls.connect()'s (with the socket.connect() ones it documents).
const TLS_SERVER = ['ALPNProtocols', 'enableTrace', 'rejectUnauthorized', 'requestCert', 'SNICallback', 'secureContext', 'pskCallback', 'pskIdentityHint'];
const TLS_CLIENT = [
  'ALPNProtocols', 'enableTrace', 'rejectUnauthorized', 'requestCert', 'secureContext', 'pskCallback', 'checkServerIdentity', 'servername',
  'session', 'minDHSize', 'highWaterMark', 'family', 'hints', 'localAddress', 'localPort', 'lookup', 'keepAlive', 'keepAliveInitialDelay',
  'autoSelectFamily', 'autoSelectFamilyAttemptTimeout',
];

// What the TLS options of both ends check themselves: the values Node would take with a less readable error, or none.
const commonTls = {
  ca: KeyMaterial,
  cert: KeyMaterial,
  key: KeyMaterial,
  /** PKCS#12 (`.pfx`, `.p12`) holding the key and certificate chain, instead of `key` and `cert`. */
  pfx: KeyMaterial,
  crl: KeyMaterial,
  /** Decrypts `key` or `pfx`. */
  passphrase: t.string,
  minVersion: TlsVersion,
  maxVersion: TlsVersion,
  ALPNProtocols: AlpnProtocols,
  rejectUnauthorized: t.boolean,
  requestCert: t.boolean,
  ciphers: NonEmptyString,
  servername: NonEmptyString,
};

// Options of Node's that rxwire sets itself, with what to use instead.
const OWNED_BY_SERVE = {
  handshakeTimeout: 'use serve({ handshakeTimeoutMs })',
  highWaterMark: 'use serve({ highWaterMark })',
  allowHalfOpen: 'connections are half-open once their handshake is done',
  pauseOnConnect: 'connections are read as their handler asks',
  noDelay: 'Nagle is off on every connection',
};
const OWNED_BY_CONNECT = {
  host: 'use connect({ host })',
  port: 'use connect({ port })',
  path: 'use connect({ path })',
  timeout: 'use connect({ timeoutMs })',
  socket: 'connect() makes the socket',
  allowHalfOpen: 'connections are half-open',
  noDelay: 'Nagle is off on every connection',
};

/**
 * `serve({ tls })`: Node's `tls.createServer()` options (`cert` and `key`, or `pfx` and
 * `passphrase`; `ca` and `requestCert` for mutual TLS; `minVersion`, `ALPNProtocols`, …), but for
 * the socket options rxwire sets itself.
 */
export type ServerTlsOptions = Omit<tls.TlsOptions, keyof typeof OWNED_BY_SERVE | keyof ServerOpts>;

const serverTlsNames = passThroughOptions(commonTls, [...SECURE_CONTEXT, ...TLS_SERVER], OWNED_BY_SERVE);

export const ServerTlsOptions = new t.Type<ServerTlsOptions, unknown, unknown>(
  'TLS server options',
  (u): u is ServerTlsOptions => serverTlsNames.is(u),
  (u, c) => {
    const named = serverTlsNames.validate(u, c);
    if (named._tag === 'Left') return named;
    const opts = named.right;
    // What makes the server's identity: without one, every handshake would fail, each alone.
    if (opts.cert !== undefined && opts.key === undefined) return t.failure(undefined, t.appendContext(c, 'key', Pem, undefined), 'expected PEM text as a string or Buffer');
    const identified = (opts.cert !== undefined && opts.key !== undefined) || ['pfx', 'SNICallback', 'secureContext', 'pskCallback'].some((k) => opts[k] !== undefined);
    return identified ? t.success(opts as ServerTlsOptions) : t.failure(u, c, 'needs cert and key, or pfx, for the server\'s identity');
  },
  (opts) => opts,
);

/**
 * `connect({ tls })`: Node's `tls.connect()` options: whom to trust (`ca`; default the system's
 * CAs), a certificate of our own if asked (`cert` and `key`, or `pfx`), `servername` (default the
 * host, when it is a name), `rejectUnauthorized` (default true), `minVersion`, `ALPNProtocols`, …
 * but for where to connect and the socket options rxwire sets itself.
 */
// Node's type for connect() takes SNICallback (it extends the server's options), a server's option refused here.
export type ClientTlsOptions = Omit<tls.ConnectionOptions, keyof typeof OWNED_BY_CONNECT | 'SNICallback'>;

export const ClientTlsOptions = passThroughOptions(commonTls, [...SECURE_CONTEXT, ...TLS_CLIENT], OWNED_BY_CONNECT) as unknown as t.Type<
  ClientTlsOptions,
  unknown,
  unknown
>;

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
  ...serverLogKeys,
};

export const ServeOptions = strictOptions({}, serveOptionCodecs);
export type ServeOptions = t.TypeOf<typeof ServeOptions>;

/** `connect()`'s options, each key's codec: `dial()` takes them too. */
export const connectOptionCodecs = {
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
};

export const ConnectOptions = strictOptions({}, connectOptionCodecs);
export type ConnectOptions = t.TypeOf<typeof ConnectOptions>;

export const DialOptions = strictOptions(
  {},
  {
    ...connectOptionCodecs,
    /** How long each `request` and each step of `for await` may wait for the server; 0 = for ever. Default 2 min. */
    replyTimeoutMs: wholeNumber(0),
    /** How long a `write` may wait for the server to read, and `end()` for what was written to be flushed; 0 = for ever. Default 2 min. */
    writeTimeoutMs: wholeNumber(0),
    /** Reply bytes read and not yet taken by `for await` at which reading pauses. Default 64 KiB. */
    highWaterMark: wholeNumber(1),
  },
);
export type DialOptions = t.TypeOf<typeof DialOptions>;
