// The uppercase transform for the baseline server and for checking echoes, kept apart from
// handlers/upper.ts on purpose: the baseline must not load rxwire, and the check must not trust it.

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const a = 0x61;
const z = 0x7a;
const caseBit = 0x20;

export { CARRIAGE_RETURN, NEWLINE };

/** Every byte value's uppercase: what a careful hand-written server looks up instead of branching. */
const UPPER = Uint8Array.from({ length: 256 }, (_, byte) => (byte >= a && byte <= z ? byte ^ caseBit : byte));

/** Copies `src[start, end)` into `dst` at `at` (which may be `src` itself) with ASCII a–z uppercased, by table; returns where it stopped. */
export function upperInto(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  const table = UPPER;
  for (let i = start; i < end; i++) dst[at++] = table[src[i]];
  return at;
}

/** The plainest form, byte by byte with a branch: how the check computes what a server owes, once per payload. */
export function upperReference(chunk: Buffer): Buffer {
  const out = Buffer.allocUnsafe(chunk.length);
  for (let i = 0; i < chunk.length; i++) {
    const byte = chunk[i];
    out[i] = byte >= a && byte <= z ? byte ^ caseBit : byte;
  }
  return out;
}
