import { map, OperatorFunction, pipe } from 'rxjs';
import { backpressure, closeOnEmptyRead, Handler } from 'rxwire';

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
const WORDWISE_FROM = 16;
// Below this many, the bytes are one frame of several in a read, or the read is one short message.
const SHORT = 128;
/** Every byte value's uppercase, for short inputs: a lookup costs less than a mispredicted branch. */
const UPPER = Uint8Array.from({ length: 256 }, (_, byte) => (byte >= a && byte <= z ? byte ^ caseBit : byte));

// The frames of one read are views of one ArrayBuffer: its word view is made once, on its second
// short frame (a read that is one short message would pay for it and gain nothing). Only a buffer
// no larger than a read when first seen is remembered, so that little stays alive for it (the
// last read's until the next call); a larger one gets a word view per call.
const MAX_REMEMBERED = 64 * 1024;
let seenBuffer: ArrayBufferLike | undefined;
let wordView: Int32Array | undefined;

/** A view of `buffer`'s words up to at least `end`, or none yet for the first short frame seen of it. */
function wordsOf(buffer: ArrayBufferLike, end: number, short: boolean): Int32Array | undefined {
  if (buffer !== seenBuffer) {
    const remembered = buffer.byteLength <= MAX_REMEMBERED;
    seenBuffer = remembered ? buffer : undefined;
    wordView = undefined;
    if (short && remembered) return undefined;
  }
  // A resizable ArrayBuffer may have grown past the view made before.
  if (wordView === undefined || end > wordView.length) {
    const words = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    if (seenBuffer === buffer) wordView = words;
    return words;
  }
  return wordView;
}

/** ASCII a–z to A–Z, like Python's `bytes.upper()`: every other byte, UTF-8 included, is kept. A new Buffer; `chunk` is left alone. */
export function upperBytes(chunk: Buffer): Buffer {
  return upperInPlace(Buffer.from(chunk));
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
  const view = wordsOf(bytes.buffer, firstWord + words, length < SHORT);
  if (view === undefined) {
    upperByteByByte(bytes, 0, length);
    return bytes;
  }
  upperByteByByte(bytes, 0, head);
  upperWords(view, firstWord, firstWord + words);
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

/** Uppercases every chunk's ASCII letters into a new Buffer; safe across chunk boundaries since it never joins bytes. */
export function upper(): OperatorFunction<Buffer, Buffer> {
  return map(upperBytes);
}

/**
 * The seed's server: read until the empty read, answer every chunk uppercased, never outrun the
 * reader. Each read is uppercased where it lies: the pipeline owns it and nothing else sees it.
 */
const handler: Handler = pipe(backpressure(), closeOnEmptyRead(), map(upperInPlace));
export default handler;
