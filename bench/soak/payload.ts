// What the soak's peers send and check: the uppercase echo is computed here in the plainest form,
// apart from handlers/upper.ts, so that the check does not trust what it checks.

/**
 * An endless stream for a client to send, one block repeated, and the echo the server owes for
 * it. Both are held twice over, so that any slice up to a block long is one view: sending and
 * checking copy nothing.
 */
export class Payload {
  readonly period: number;
  private readonly sent: Buffer;
  private readonly echoed: Buffer;

  constructor(block: Buffer) {
    this.period = block.length;
    this.sent = Buffer.concat([block, block]);
    const echo = upperReference(block);
    this.echoed = Buffer.concat([echo, echo]);
  }

  /** The bytes at `offset` in the stream, `length` ≤ one block, as a view. */
  bytesAt(offset: number, length: number): Buffer {
    const start = offset % this.period;
    return this.sent.subarray(start, start + length);
  }

  /** Where `chunk`, received at `offset` in the echo, first differs from what the server owes; -1 if nowhere. */
  mismatchAt(chunk: Buffer, offset: number): number {
    for (let done = 0; done < chunk.length; done += this.period) {
      const start = (offset + done) % this.period;
      const piece = chunk.subarray(done, done + this.period);
      const owed = this.echoed.subarray(start, start + piece.length);
      if (!piece.equals(owed)) return done + piece.findIndex((byte, i) => byte !== owed[i]);
    }
    return -1;
  }

  /** What the server owed at `offset` in the echo. */
  echoByteAt(offset: number): number {
    return this.echoed[offset % this.period];
  }
}

/** The plainest uppercase, byte by byte with a branch: what the server owes for `chunk`, computed once per block. */
function upperReference(chunk: Buffer): Buffer {
  const out = Buffer.allocUnsafe(chunk.length);
  for (let i = 0; i < chunk.length; i++) {
    const byte = chunk[i];
    out[i] = byte >= 0x61 && byte <= 0x7a ? byte ^ 0x20 : byte;
  }
  return out;
}
