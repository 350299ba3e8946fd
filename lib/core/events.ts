import { Transport } from './handler';

// What a server tells those who watch it: plain data, one object per event, told apart by `type`
// (as a discriminated union). Logs, metrics and users' own code are all subscribers of one
// stream of these (`server.events`); no socket, no Observable, nothing to hold a connection alive.

/** Why a connection closed. */
export type CloseReason =
  /** Its pipeline completed, or the peer ended and the last reply was flushed. */
  | 'end'
  /** Silent past `idleMs` (an `IdleTimeout`), or a UDP/rdm session expired by silence. */
  | 'idle'
  /** A frame broke the protocol (a `ProtocolError`: too long, undecodable, a frame deadline). */
  | 'protocol-error'
  /** The handler threw or its Observable errored with an error that is not rxwire's or the network's. */
  | 'handler-error'
  /** Still open when the server's grace period ran out: cut. */
  | 'grace-expired'
  /** The network's fault: ECONNRESET, EPIPE, a peer gone mid-write. */
  | 'reset'
  /** A budget was spent: `maxBufferedBytes` (`BufferBudgetExceeded`), an rdm session shed or its backlog full. */
  | 'over-budget'
  /** Another of rxwire's own errors ended it (a datagram too large to answer, an rdm message undeliverable). */
  | 'error';

/** Why a peer was turned away before it became a connection. */
export type RefusalReason =
  /** `maxConnections` connections were open. */
  | 'max-connections'
  /** `maxConnectionsPerAddress` connections from its address were open. */
  | 'per-address'
  /** The process was near its limit of open files (RLIMIT_NOFILE). */
  | 'near-fd-limit'
  /** Its PROXY protocol header was missing, malformed or late. */
  | 'proxy-header'
  /** Its TLS handshake failed, timed out, or it hung up during it. */
  | 'tls-handshake'
  /** UDP/rdm: `maxPeers` peers had sessions; its datagram was dropped. */
  | 'max-peers';

/** An error as an event carries it: the Error itself (for a stack), its class name, and its code when it has one. */
export interface EventError {
  readonly name: string;
  /** `ERR_FRAME_TOO_LONG`, `ECONNRESET`; undefined for a handler's own error without one. */
  readonly code: string | undefined;
  readonly message: string;
  /** The Error that was raised, when it was one: not serialised, for whoever wants its stack. */
  readonly cause: Error | undefined;
}

/** The server is listening (for a cluster: every worker is). */
export interface ListeningEvent {
  readonly type: 'listening';
  readonly transport: Transport;
  /** `[::]:50007`, `unix:/tmp/rxwire.sock`. */
  readonly address: string;
}

/** A connection (a UDP or rdm session) was accepted and its handler is about to run. */
export interface OpenEvent {
  readonly type: 'open';
  readonly id: number;
  readonly transport: Transport;
  readonly remote: string;
  readonly local: string;
}

/** A connection closed: why, what it carried, and how long it lived. Every `open` has exactly one `close`. */
export interface CloseEvent {
  readonly type: 'close';
  readonly id: number;
  readonly transport: Transport;
  readonly remote: string;
  readonly reason: CloseReason;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** UDP and rdm: datagrams (messages) in and out; undefined on a stream. */
  readonly datagramsIn?: number;
  readonly datagramsOut?: number;
  /** UDP: datagrams that arrived while its handler was not reading, dropped. */
  readonly droppedUnread?: number;
  readonly durationMs: number;
  /** What ended it, when something failed (every reason but `end` and `grace-expired`). */
  readonly error?: EventError;
}

/** A peer turned away before it became a connection. */
export interface RefusedEvent {
  readonly type: 'refused';
  readonly remote: string;
  readonly reason: RefusalReason;
  /** The limit that was reached (`maxConnections`, the per-address limit, the open-file cap, `maxPeers`). */
  readonly limit?: number;
  /** `per-address`: the address whose limit was reached (behind a proxy, the one its PROXY header gives). */
  readonly address?: string;
  /** What went wrong, for `proxy-header` and `tls-handshake`: `client certificate not trusted (…)`, `the client hung up`. */
  readonly detail?: string;
  /** `proxy-header`: the error that ended its socket (a bad, long or late header; the socket's own error); undefined when it was not allowed to send one. */
  readonly error?: EventError;
}

/** A frame broke the protocol: the connection ends after the replies to the frames before it (a `close` follows). */
export interface ProtocolErrorEvent {
  readonly type: 'protocol-error';
  readonly id: number;
  readonly error: EventError;
}

/** The handler failed on one connection: only that connection ends (a `close` follows). */
export interface HandlerErrorEvent {
  readonly type: 'handler-error';
  readonly id: number;
  readonly error: EventError;
}

/** A UDP or rdm session went silent past `idleMs`: its input completes (a `close` follows once its output does). */
export interface ExpiredEvent {
  readonly type: 'expired';
  readonly id: number;
  readonly idleMs: number;
}

/** UDP: datagrams dropped over the server's life, told once as it closes, when any were (each new peer's is also a `refused` `max-peers`). */
export interface UdpDroppedEvent {
  readonly type: 'udp-dropped';
  /** From new peers while `maxPeers` peers had sessions. */
  readonly fromNewPeers: number;
  /** For sessions whose handler was not reading. */
  readonly unread: number;
  readonly maxPeers: number;
}

/** A cluster's worker exited while the server was serving. A `worker-restart` follows. */
export interface WorkerExitEvent {
  readonly type: 'worker-exit';
  /** The worker's slot, 1 to N (the `worker N:` of its log lines). */
  readonly worker: number;
  readonly pid: number | undefined;
  readonly code: number | null;
  readonly signal: string | null;
  /** What the worker said before it went, if anything (`cannot listen: …`). */
  readonly reason: string | undefined;
  readonly livedMs: number;
  /** How long until it is started again (backing off while workers die young). */
  readonly restartInMs: number;
}

/** A cluster's worker was started again in its slot. */
export interface WorkerRestartEvent {
  readonly type: 'worker-restart';
  readonly worker: number;
  readonly pid: number | undefined;
}

/** An error of the server itself, not of one connection (EMFILE on accept, a UDP send refused); the server goes on. */
export interface ServerErrorEvent {
  readonly type: 'server-error';
  readonly error: EventError;
}

/** `close()` was called: the server stops accepting and gives the open connections `graceMs`. */
export interface ShutdownEvent {
  readonly type: 'shutdown';
  /** `SIGTERM`, `SIGINT`, `SIGHUP`, `parent exited`, or `close()` from code. */
  readonly reason: string;
  /** Connections open (for a cluster: workers serving) when it began. */
  readonly open: number;
  /** What `open` counts: a cluster's primary counts its workers. */
  readonly counting: 'connections' | 'workers';
  readonly graceMs: number;
}

/** The grace period ran out with connections still open: they are cut (each gets a `close` with `grace-expired`). */
export interface GraceExpiredEvent {
  readonly type: 'grace-expired';
  readonly graceMs: number;
  readonly cut: number;
}

/** The server has closed: every socket is. Its last event; the stream completes after it. */
export interface ClosedEvent {
  readonly type: 'closed';
}

/** Everything a server tells: match on `type`. */
export type ServerEvent =
  | ListeningEvent
  | OpenEvent
  | CloseEvent
  | RefusedEvent
  | ProtocolErrorEvent
  | HandlerErrorEvent
  | ExpiredEvent
  | UdpDroppedEvent
  | WorkerExitEvent
  | WorkerRestartEvent
  | ServerErrorEvent
  | ShutdownEvent
  | GraceExpiredEvent
  | ClosedEvent;

/** The event types that concern one connection or one peer: what `-q` leaves out of the log. */
export const CONNECTION_EVENT_TYPES: ReadonlySet<ServerEvent['type']> = new Set(['open', 'close', 'refused', 'protocol-error', 'handler-error', 'expired']);
