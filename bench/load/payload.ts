import { NEWLINE, upperReference } from '../ascii';

/**
 * An endless stream for a client to send, one block repeated, and the echo the server owes for
 * it. Both are held twice over, so that any slice up to a block long is one view: sending and
 * checking copy nothing.
 */
export class Payload {
  readonly period: number;
  private readonly sent: Buffer;
  private readonly echoed: Buffer;

  /**
   * `unit`: streams are cut in whole units of this many bytes (one block, for framed payloads).
   * `echo`: what the server owes for `block`; by default the block uppercased.
   */
  constructor(
    block: Buffer,
    private readonly unit: number,
    echo = upperReference(block),
  ) {
    this.period = block.length;
    this.sent = Buffer.concat([block, block]);
    this.echoed = Buffer.concat([echo, echo]);
  }

  /** The longest stream of at most `bytes` that ends between two records. */
  fit(bytes: number): number {
    return bytes - (bytes % this.unit);
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

const MiB = 1 << 20;
// Just under 1 MiB and prime, so that the block never lines up with 64 KiB reads.
const MIXED_BLOCK = 1_048_573;

/** Bytes of every kind the uppercase transform must handle: mostly a–z, the bytes next to them, other ASCII, bytes ≥ 0x80. */
export function mixedBytes(): Payload {
  const random = seeded(5);
  const block = Buffer.allocUnsafe(MIXED_BLOCK);
  for (let i = 0; i < block.length; i++) block[i] = mixedByte(random);
  return new Payload(block, 1);
}

function mixedByte(random: () => number): number {
  const kind = random();
  if (kind < 0.7) return 0x61 + Math.floor(random() * 26);
  if (kind < 0.8) return 0x41 + Math.floor(random() * 26);
  if (kind < 0.9) return Math.floor(random() * 0x80);
  return 0x80 + Math.floor(random() * 0x80);
}

/**
 * One MiB of `\n`-terminated text lines from `minLength` to `maxLength` bytes long, newline
 * included: lowercase words, digits, punctuation and two-byte UTF-8, never a `\r`.
 */
export function textLines(minLength: number, maxLength: number): Payload {
  const random = seeded(8);
  const block = Buffer.allocUnsafe(MiB);
  let at = 0;
  while (at < block.length) {
    const left = block.length - at;
    // The last line takes what is left, so that the block is exactly 1 MiB of whole lines.
    const length = left < minLength + maxLength ? left : minLength + Math.floor(random() * (maxLength - minLength + 1));
    const end = at + length - 1;
    while (at < end) {
      const kind = random();
      if (kind < 0.05 && end - at >= 2) {
        block[at++] = 0xc3; // é, Ã©…: a two-byte UTF-8 character
        block[at++] = 0x80 + Math.floor(random() * 0x40);
      } else if (kind < 0.15) block[at++] = 0x20;
      else if (kind < 0.25) block[at++] = 0x21 + Math.floor(random() * 0x3f);
      else block[at++] = 0x61 + Math.floor(random() * 26);
    }
    block[at++] = NEWLINE;
  }
  return new Payload(block, block.length);
}

/**
 * One MiB of whole frames behind a `headerBytes`-byte big-endian length, payloads from
 * `minLength` to `maxLength` bytes of every kind (as `mixedBytes`); the echo keeps each header and uppercases each payload.
 */
export function lengthPrefixedFrames(headerBytes: number, minLength: number, maxLength: number): Payload {
  const random = seeded(9);
  const block = Buffer.allocUnsafe(MiB);
  const echo = Buffer.allocUnsafe(MiB);
  let at = 0;
  while (at < block.length) {
    const left = block.length - at - headerBytes;
    // The last frame takes what is left, so that the block is exactly 1 MiB of whole frames.
    const length = left < minLength + maxLength + headerBytes ? left : minLength + Math.floor(random() * (maxLength - minLength + 1));
    block.writeUIntBE(length, at, headerBytes);
    block.copy(echo, at, at, at + headerBytes);
    at += headerBytes;
    for (let i = 0; i < length; i++) block[at + i] = mixedByte(random);
    upperReference(block.subarray(at, at + length)).copy(echo, at);
    at += length;
  }
  return new Payload(block, block.length, echo);
}

/** mulberry32: the same bytes on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
