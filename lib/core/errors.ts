// One family for every error rxwire raises, like Node's and undici's: a class per failure, a
// stable `code`, and `instanceof` that holds across two copies of the package (a handler module
// with its own node_modules/rxwire), through a brand registered with `Symbol.for`.

const KINDS = Symbol.for('rxwire.error.kinds');

type Branded = { readonly [KINDS]: readonly string[] };

function isBranded(value: unknown): value is Branded {
  return typeof value === 'object' && value !== null && Array.isArray((value as Partial<Branded>)[KINDS]);
}

/** The classes from `target` up to the family's root, by name: what `instanceof` is checked against. */
function kindsOf(target: Function): string[] {
  const kinds: string[] = [];
  for (let c = target; c && c !== Error && c !== Function.prototype; c = Object.getPrototypeOf(c)) kinds.push(c.name);
  return kinds;
}

function brand(error: Error, target: Function): void {
  Object.defineProperty(error, KINDS, { value: kindsOf(target) });
}

/** `x instanceof C` for a class of the family: its own prototype chain, or the brand of another copy's. */
function hasInstance(this: Function, value: unknown): boolean {
  return Function.prototype[Symbol.hasInstance].call(this, value) || (isBranded(value) && value[KINDS].includes(this.name));
}

/** The root of the family. `code` is stable (`ERR_FRAME_TOO_LONG`); match on it or on the class. */
export abstract class RxwireError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    brand(this, new.target);
  }

  static override [Symbol.hasInstance] = hasInstance;
}

/** A peer broke the protocol: the frame's bytes are the peer's fault, not the handler's. */
export abstract class ProtocolError extends RxwireError {}

/** A connection was silent, both ways, for longer than its idle timeout allows. */
export class IdleTimeout extends RxwireError {
  readonly code = 'ERR_IDLE_TIMEOUT';
  constructor(readonly idleMs: number) {
    super(`idle for ${idleMs} ms`);
  }
}

/**
 * A frame longer than its codec allows. `atLeast` is set for a delimited frame (a line), which a
 * decoder refuses as soon as it passes the limit rather than buffer the rest: `length` is then
 * the least it can be (`pastLimit`).
 */
export class FrameTooLong extends ProtocolError {
  readonly code = 'ERR_FRAME_TOO_LONG';
  constructor(
    readonly length: number,
    readonly limit: number,
    readonly atLeast = false,
  ) {
    super(`frame of ${atLeast ? 'at least ' : ''}${length} bytes exceeds the ${limit}-byte limit`);
  }

  /**
   * A delimited frame (a line) past `limit`, as a decoder that refuses it as soon as it passes
   * the limit tells it: `at least limit + 1` bytes, however much of it had arrived, so that the
   * error is the same however the input was split.
   */
  static pastLimit(limit: number): FrameTooLong {
    return new FrameTooLong(limit + 1, limit, true);
  }
}

/** The input ended part-way through a frame: a short fixed-size tail, or a cut length-prefixed frame. */
export class IncompleteFrame extends ProtocolError {
  readonly code = 'ERR_INCOMPLETE_FRAME';
  constructor(
    readonly received: number,
    readonly expected: number,
    readonly part: 'frame' | 'length header' = 'frame',
  ) {
    super(`input ended inside a ${part}: ${received} of ${expected} bytes`);
  }
}

/**
 * A frame whose content breaks the protocol: not JSON, or not the shape its codec expects. The
 * message is one line (`.a: expected number, got "x"`); `excerpt` is the frame's start, for logs.
 */
export class DecodeError extends ProtocolError {
  readonly code = 'ERR_DECODE';
  constructor(
    message: string,
    readonly excerpt = '',
  ) {
    super(message);
  }
}

/**
 * A RESP value past one of `resp()`'s limits other than a length in bytes: an aggregate with more
 * elements than `maxArrayLength`, or nested deeper than `maxDepth`. Found from the header, before
 * any element is read.
 */
export class RespLimitExceeded extends ProtocolError {
  readonly code = 'ERR_RESP_LIMIT';
  constructor(
    readonly limit: 'maxArrayLength' | 'maxDepth',
    readonly value: number,
    readonly max: number,
  ) {
    super(limit === 'maxArrayLength' ? `aggregate of ${value} elements exceeds the ${max}-element limit` : `nested deeper than ${max} levels`);
  }
}

/** A frame that began arriving did not complete within its deadline: a peer trickling bytes. */
export class FrameTimeout extends ProtocolError {
  readonly code = 'ERR_FRAME_TIMEOUT';
  constructor(readonly ms: number) {
    super(`frame not complete within ${ms} ms`);
  }
}

/** A connection's PROXY protocol header is malformed, missing, or longer than allowed. */
export class ProxyHeaderError extends ProtocolError {
  readonly code = 'ERR_PROXY_HEADER';
  constructor(reason: string) {
    super(`PROXY header: ${reason}`);
  }
}

/** A connection's PROXY protocol header had not fully arrived within its deadline (`proxyProtocol.timeoutMs`). */
export class ProxyHeaderTimeout extends ProtocolError {
  readonly code = 'ERR_PROXY_HEADER_TIMEOUT';
  constructor(readonly ms: number) {
    super(`PROXY header not complete within ${ms} ms`);
  }
}

/**
 * A connection would take the server past its budget for bytes held in decoders and pending
 * output (`maxBufferedBytes`), so it is ended rather than let one peer's frames exhaust memory.
 */
export class BufferBudgetExceeded extends RxwireError {
  readonly code = 'ERR_BUFFER_BUDGET';
  constructor(readonly wanted: number) {
    super(`holding ${wanted} bytes would pass the server's budget for buffered bytes (maxBufferedBytes)`);
  }
}

/** A datagram longer than the transport may send (`maxDatagram`); it is never sent. */
export class DatagramTooLarge extends RxwireError {
  readonly code = 'ERR_DATAGRAM_TOO_LARGE';
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`datagram of ${length} bytes exceeds the ${limit}-byte limit`);
  }
}

/** A datagram client heard nothing from its server, and sent nothing, for `ms`. */
export class NoReply extends RxwireError {
  readonly code = 'ERR_NO_REPLY';
  constructor(
    readonly remote: string,
    readonly ms: number,
  ) {
    super(`no reply from udp ${remote} within ${ms} ms`);
  }
}

/** A client waited longer than `replyTimeoutMs` for its server's reply; the connection is closed. */
export class ReplyTimeout extends RxwireError {
  readonly code = 'ERR_REPLY_TIMEOUT';
  constructor(
    readonly remote: string,
    readonly ms: number,
  ) {
    super(`no reply from ${remote} within ${ms} ms`);
  }
}

/**
 * A client's output waited longer than `writeTimeoutMs` to drain: the server stopped reading. The
 * connection is closed, since what it holds unsent may never go (Netty's `WriteTimeoutException`).
 */
export class WriteTimeout extends RxwireError {
  readonly code = 'ERR_WRITE_TIMEOUT';
  constructor(
    readonly remote: string,
    readonly ms: number,
    readonly pendingBytes: number,
  ) {
    super(`${remote} read none of ${pendingBytes} pending bytes within ${ms} ms`);
  }
}

/**
 * A reliable-datagram message the peer never acknowledged, after `retries` retransmissions, or
 * once `retransmittedBytes` went to the peer without an acknowledgement (`maxRetransmitBytes`).
 */
export class Undeliverable extends RxwireError {
  readonly code = 'ERR_UNDELIVERABLE';
  constructor(
    readonly messageId: number,
    readonly remote: string,
    readonly retries: number,
    readonly retransmittedBytes?: number,
  ) {
    super(
      `message ${messageId} to rdm ${remote} undeliverable: ${
        retransmittedBytes === undefined ? `no acknowledgement after ${retries} retransmissions` : `${retransmittedBytes} bytes retransmitted without an acknowledgement`
      }`,
    );
  }
}

/**
 * A reliable-datagram session ended to keep the server within its budget for messages held
 * (`maxBufferedBytes`): its handler emitted a message the budget had no room for. Its peer is
 * shed; the other sessions go on.
 */
export class SessionShed extends RxwireError {
  readonly code = 'ERR_SESSION_SHED';
  constructor(
    readonly held: number,
    readonly limit: number,
  ) {
    super(`shed: holding ${held} bytes of messages would pass the server's budget of ${limit} bytes (maxBufferedBytes)`);
  }
}

/** A reliable-datagram message longer than one datagram carries (no fragmentation); it is never sent. */
export class MessageTooLarge extends RxwireError {
  readonly code = 'ERR_MESSAGE_TOO_LARGE';
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`message of ${length} bytes exceeds the ${limit}-byte limit of one datagram`);
  }
}

/** More reliable-datagram messages than `maxQueued` waited for a full send window: none is dropped silently. */
export class SendBacklogFull extends RxwireError {
  readonly code = 'ERR_SEND_BACKLOG_FULL';
  constructor(readonly maxQueued: number) {
    super(`more than ${maxQueued} messages wait for the send window: they are sent faster than the peer acknowledges`);
  }
}

/** A raw socket could not be opened: the addon is missing, or the process lacks the privilege. */
export class RawSocketUnavailable extends RxwireError {
  readonly code = 'ERR_RAW_SOCKET_UNAVAILABLE';
}

/**
 * A flow operator (`backpressure()`, …) that cannot act on the connection it serves: it was
 * subscribed through something shared by several connections, which outlived the one it found.
 */
export class FlowUnavailable extends RxwireError {
  readonly code = 'ERR_FLOW_UNAVAILABLE';
}

/**
 * A cluster worker could not start serving: its listen failed (`listen EADDRINUSE: …`, the
 * message as a single server's would be) or it exited before it listened.
 */
export class WorkerFailed extends RxwireError {
  readonly code = 'ERR_WORKER_FAILED';
}

/**
 * Options a function refuses: an unknown key (`serve: unknown option "idleTimeout" (did you mean
 * "idleMs"?)`) or a bad value (`lines: maxLength: expected a whole number ≥ 1, got 0`). A
 * TypeError, as Node's own invalid-argument errors are, and one of the family (`instanceof
 * RxwireError`, `code` `ERR_INVALID_OPTION`).
 */
export class InvalidOption extends TypeError {
  readonly code = 'ERR_INVALID_OPTION';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOption';
    Object.defineProperty(this, KINDS, { value: ['InvalidOption', 'RxwireError'] });
  }

  static override [Symbol.hasInstance] = hasInstance;
}
