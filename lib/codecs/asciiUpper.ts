/**
 * ASCII a–z to A–Z, like Python's `bytes.upper()`: every other byte, UTF-8 included, is kept.
 * The default handler's transform, fast enough to run at memory speed on whole reads: long inputs
 * go four bytes a step (SWAR, a word per step), short ones through a lookup table. Stateless: a
 * word view is made per call for inputs long enough to pay for it.
 */

const a = 0x61;
const z = 0x7a;
const caseBit = 0x20;
// Per byte of a 32-bit word: adding these to a byte's low 7 bits sets its high bit at ≥ 'a' and
// at ≥ '{' (one past 'z'), never carrying into the next byte.
const FROM_A = 0x1f1f1f1f;
const PAST_Z = 0x05050505;
const LOW_BITS = 0x7f7f7f7f;
const HIGH_BITS = 0x80808080 | 0;
// Below this many bytes the word loop's setup (head, tail, the word view) costs more than it saves.
const WORDWISE_FROM = 128;
/** Every byte value's uppercase, for short inputs: a lookup costs less than a mispredicted branch. */
const UPPER: Readonly<Uint8Array> = Uint8Array.from({ length: 256 }, (_, byte) => (byte >= a && byte <= z ? byte ^ caseBit : byte));

/** ASCII a–z to A–Z in a new Buffer; `bytes` is left alone. */
export function upperBytes(bytes: Buffer): Buffer {
  return upperInPlace(Buffer.from(bytes));
}

/**
 * `upperBytes` without the copy: uppercases `bytes` itself and returns it. For a pipeline that
 * owns its values, as a connection's pipeline owns each read (see the README's "Who owns a chunk").
 */
export function upperInPlace(bytes: Buffer): Buffer {
  const length = bytes.length;
  if (length < WORDWISE_FROM) {
    upperByteByByte(bytes, 0, length);
    return bytes;
  }
  // The bytes before the first 4-byte boundary and after the last one go byte by byte.
  const offset = bytes.byteOffset;
  const head = (4 - (offset & 3)) & 3;
  const firstWord = (offset + head) >>> 2;
  const words = (length - head) >>> 2;
  const buffer = bytes.buffer;
  upperByteByByte(bytes, 0, head);
  upperWords(new Int32Array(buffer, 0, buffer.byteLength >>> 2), firstWord, firstWord + words);
  upperByteByByte(bytes, head + words * 4, length);
  return bytes;
}

function upperByteByByte(bytes: Uint8Array, start: number, end: number): void {
  const table = UPPER;
  for (let i = start; i < end; i++) bytes[i] = table[bytes[i]];
}

// Four bytes a step (SWAR): a byte is a lowercase letter when its low 7 bits are ≥ 'a' and ≤ 'z'
// and its own high bit is clear; its 0x80 marker shifted right twice is the case bit, 0x20.
function upperWords(words: Int32Array, start: number, end: number): void {
  for (let i = start; i < end; i++) {
    const word = words[i];
    const low = word & LOW_BITS;
    const lower = ((low + FROM_A) | 0) & ~(low + PAST_Z) & ~word & HIGH_BITS;
    if (lower !== 0) words[i] = word ^ (lower >>> 2);
  }
}
