// The uppercase transform for the baseline server and for checking echoes, kept apart from
// handlers/upper.ts on purpose: the baseline must not load rxwire, and the check must not trust it.

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const a = 0x61;
const z = 0x7a;
const caseBit = 0x20;

export { CARRIAGE_RETURN, NEWLINE };

/** Copies `src[start, end)` into `dst` at `at` with ASCII a–z uppercased (handlers/upper.ts's byte loop); returns where it stopped. */
export function upperInto(src: Buffer, start: number, end: number, dst: Buffer, at: number): number {
  for (let i = start; i < end; i++) {
    const byte = src[i];
    dst[at++] = byte >= a && byte <= z ? byte ^ caseBit : byte;
  }
  return at;
}

/** A new Buffer per chunk, a–z uppercased, every other byte kept: what handlers/upper.ts answers. */
export function upperAscii(chunk: Buffer): Buffer {
  const out = Buffer.allocUnsafe(chunk.length);
  upperInto(chunk, 0, chunk.length, out, 0);
  return out;
}
