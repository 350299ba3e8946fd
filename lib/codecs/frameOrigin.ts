/**
 * The frame a decoder is handing on right now, and the input chunk it was cut from: while it is
 * set, an encoder given that very frame back (changed in place, or not at all) may answer with a
 * view of the chunk that takes in the bytes around the frame it would otherwise write (a line's
 * delimiter, a payload's header), when they are exactly those bytes. Such a view costs no copy,
 * and the views of consecutive frames lie end to end, so a transport can send them as one.
 *
 * Only bytes that belong to no frame are taken in: `before` and `after` are how many bytes
 * before and after every frame of the chunk its decoder dropped (see `Decoder.separators`). A
 * frame is noted only when its decoder says it is a view of the chunk (`Decoder.cutFrom`).
 */
export interface FrameOrigin {
  frame: unknown;
  source: Buffer | undefined;
  before: number;
  after: number;
}

/** One for the process: decoders hand frames on synchronously, one at a time. */
export const emitting: FrameOrigin = { frame: undefined, source: undefined, before: 0, after: 0 };

/** Where `frame`, a view of `source` (its decoder says so), starts in it; -1 should it lie outside. */
function offsetInSource(frame: Buffer, source: Buffer): number {
  const start = frame.byteOffset - source.byteOffset;
  return start >= 0 && start + frame.length <= source.length ? start : -1;
}

/** `frame` followed by `trailer`, as a view of its chunk, when `trailer` follows it there; else undefined. */
export function withTrailer(frame: Buffer, trailer: Buffer): Buffer | undefined {
  const { source, after } = emitting;
  if (frame !== emitting.frame || source === undefined || trailer.length > after) return undefined;
  const start = offsetInSource(frame, source);
  const end = start + frame.length;
  if (start < 0 || end + trailer.length > source.length) return undefined;
  for (let i = 0; i < trailer.length; i++) if (source[end + i] !== trailer[i]) return undefined;
  return source.subarray(start, end + trailer.length);
}

/**
 * `frame` behind a `headerBytes`-long header holding `value`, as a view of its chunk, when that
 * header comes right before it there; else undefined.
 */
export function withHeader(frame: Buffer, headerBytes: number, value: number, bigEndian: boolean): Buffer | undefined {
  const { source, before } = emitting;
  if (frame !== emitting.frame || source === undefined || headerBytes > before) return undefined;
  const start = offsetInSource(frame, source) - headerBytes;
  if (start < 0) return undefined;
  const header = bigEndian ? source.readUIntBE(start, headerBytes) : source.readUIntLE(start, headerBytes);
  return header === value ? source.subarray(start, start + headerBytes + frame.length) : undefined;
}
