/** A connection was silent, both ways, for longer than its idle timeout allows. */
export class IdleTimeout extends Error {
  override readonly name = 'IdleTimeout';
  constructor(readonly idleMs: number) {
    super(`idle for ${idleMs} ms`);
  }
}

/**
 * A frame longer than its codec allows. `atLeast` is set when the frame's end has not arrived
 * (an unterminated line): the decoder stops there rather than buffer the rest.
 */
export class FrameTooLong extends Error {
  override readonly name = 'FrameTooLong';
  constructor(
    readonly length: number,
    readonly limit: number,
    readonly atLeast = false,
  ) {
    super(`frame of ${atLeast ? 'at least ' : ''}${length} bytes exceeds the ${limit}-byte limit`);
  }
}

/** The input ended part-way through a frame: a short fixed-size tail, or a cut length-prefixed frame. */
export class IncompleteFrame extends Error {
  override readonly name = 'IncompleteFrame';
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
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    message: string,
    readonly excerpt = '',
  ) {
    super(message);
  }
}

/** A datagram longer than the transport may send (`maxDatagram`); it is never sent. */
export class DatagramTooLarge extends Error {
  override readonly name = 'DatagramTooLarge';
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`datagram of ${length} bytes exceeds the ${limit}-byte limit`);
  }
}

/** A datagram client heard nothing from its server, and sent nothing, for `ms`. */
export class NoReply extends Error {
  override readonly name = 'NoReply';
  constructor(
    readonly remote: string,
    readonly ms: number,
  ) {
    super(`no reply from udp ${remote} within ${ms} ms`);
  }
}
