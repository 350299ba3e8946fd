// Every default in one place: the library reads them, and so do the command's flags and --help.

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULTS = {
  /** The seed's port: servers listen on it, clients connect to it. */
  port: 50007,
  /** Where clients connect when given no host. */
  clientHost: '127.0.0.1',
  /** How long open connections may finish after `close()` or a signal. */
  graceMs: 5000,
  /** Pending output at which `backpressure()` holds reads; also a socket's write buffer. */
  highWaterMark: 64 * KiB,
  /** After our side has ended, how long a peer may go without taking what we sent or closing. */
  lingerMs: 5000,
  /** How long a TLS handshake may take. */
  handshakeTimeoutMs: 10_000,
  /** TLS handshakes in progress at once; past it the oldest gives way. */
  maxPendingHandshakes: 1024,
  /** How long a PROXY protocol header may take to arrive. */
  proxyHeaderTimeoutMs: 5000,
  /** The largest PROXY protocol v2 header taken, TLVs included. */
  maxProxyHeaderBytes: 1 * KiB,
  /** Who may send a PROXY protocol header: loopback, where a local proxy runs. */
  proxyAllow: ['127.0.0.0/8', '::1'],
  /** Bytes a server's connections together may hold in decoders and pending output. */
  maxBufferedBytes: 256 * MiB,
  /** The most cluster workers `workers` takes (`--workers`). */
  maxWorkers: 1024,
  /** The first wait before a cluster worker that died is started again; it doubles while the worker keeps dying. */
  workerRestartMs: 100,
  /** The longest wait before a worker that keeps dying is started again. */
  workerMaxRestartMs: 10_000,
  /** A worker that served this long before it died is restarted after the first wait again. */
  workerStableMs: 10_000,
  /** Lines about single connections (open, closed, expired, failed) a server logs a second; past them they are counted and summed up. */
  connectionLogLinesPerSecond: 100,
  /** `record()`: bytes a session file may take. */
  recordMaxBytes: 64 * MiB,
  /** `record()` (`--record`): bytes the session files of its directory may take together. */
  recordMaxTotalBytes: 1024 * MiB,
  /** `record()` (`--record`): session files its directory may hold. */
  recordMaxFiles: 10_000,
  /** The command's idle timeout (the library's `serve()` has none unless asked). */
  commandIdleMs: 300_000,
  /** Deepest nesting `json()` takes. */
  maxJsonDepth: 64,
  /** How long one frame may take to arrive once its first byte has. */
  frameTimeoutMs: 120_000,
  /** How long a client waits for a connection (and its TLS handshake), or a UDP reply. */
  connectTimeoutMs: 10_000,
  /** How long a client waits for a reply (`dial()`: each `request`, each step of `for await`). */
  replyTimeoutMs: 120_000,
  /** How long a client's output may wait to drain (`dial()`: a `write` past the high-water mark, `end()`'s flush). */
  writeTimeoutMs: 120_000,
  /** Requests a `requester()` has sent and not yet had replies to. */
  maxPendingRequests: 1024,
  /** A UDP peer silent this long is expired. */
  datagramIdleMs: 30_000,
  /** UDP peers served at once. */
  maxPeers: 10_000,
  /** The largest UDP payload over IPv4: 65,535 less the IP and UDP headers. */
  maxDatagram: 65_507,
  /** Reliable datagrams: messages sent and not yet acknowledged, per peer. */
  rdmWindow: 64,
  /** Reliable datagrams: messages the handler may emit beyond a full window, queued, before its session fails. */
  rdmMaxQueued: 4096,
  /** Reliable datagrams: the first wait for an acknowledgement; it doubles per retransmission. */
  rdmRetransmitMs: 200,
  /** Reliable datagrams: the longest wait between two sends of one message. */
  rdmMaxRetransmitMs: 2000,
  /** Reliable datagrams: retransmissions of one message before the session fails with Undeliverable. */
  rdmMaxRetries: 10,
  /** Reliable datagrams: bytes retransmitted to a peer since it last acknowledged a message, before its session fails with Undeliverable. */
  rdmMaxRetransmitBytes: 8 * MiB,
  /** Longest line `lines()` takes. */
  maxLineLength: 64 * KiB,
  /** Longest payload `lengthPrefixed()` takes. */
  maxLengthPrefixed: 16 * MiB,
  /** Longest bulk string `resp()` takes (Redis's own limit is 512 MB). */
  maxRespBulkLength: 16 * MiB,
  /** Most elements in one RESP aggregate. */
  maxRespArrayLength: 1024 * 1024,
  /** Deepest nesting of RESP aggregates. */
  maxRespDepth: 64,
  /** Longest RESP line (header, simple string, inline command): Redis's inline limit. */
  maxRespLineLength: 64 * KiB,
} as const;
