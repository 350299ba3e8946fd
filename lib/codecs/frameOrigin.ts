/**
 * The frame a decoder is handing on right now, and the input chunk it was cut from: while it is
 * set, an encoder given that very frame back (changed in place, or not at all) may answer with a
 * view of the chunk that takes in the bytes around the frame it would otherwise write (a line's
 * delimiter, a payload's header), when they are exactly those bytes. Such a view costs no copy,
 * and the views of consecutive frames lie end to end, so a transport can send them as one. An
 * encoder whose answers go straight to a byte stream holds them instead, as one view while they
 * lie end to end, and sends it once the decoder has handed on the chunk's last frame (`held`).
 *
 * Only bytes that belong to no frame are taken in: `before` and `after` are how many bytes
 * before and after every frame of the chunk its decoder dropped (see `Decoder.separators`). A
 * frame is noted only when its decoder says it is a view of the chunk (`Decoder.cutFrom`).
 */
export interface FrameOrigin {
  frame: unknown;
  source: Buffer | undefined;
  /** `source.byteOffset` and `source.length`, read once per chunk rather than per frame. */
  sourceOffset: number;
  sourceLength: number;
  before: number;
  after: number;
  /** Encoders holding answers in place, to send once the decoder has handed on the chunk's last frame. */
  held: Held;
}

/** Most chunks have one encoder holding answers: it is kept alone, with no array per chunk. */
export type Held = HeldAnswer | HeldAnswer[] | undefined;

/** An encoder's answers to frames of the chunk being handed on, joined into one view while they lie end to end. */
export interface HeldAnswer {
  sendHeld(): void;
}

/** One for the process: decoders hand frames on synchronously, one at a time. */
export const emitting: FrameOrigin = { frame: undefined, source: undefined, sourceOffset: 0, sourceLength: 0, before: 0, after: 0, held: undefined };

/** Has `answer` sent when the decoder handing frames on now has handed on its chunk's last. */
export function holdUntilHandedOn(answer: HeldAnswer): void {
  const held = emitting.held;
  if (held === undefined) emitting.held = answer;
  else if (Array.isArray(held)) held.push(answer);
  else emitting.held = [held, answer];
}

/** Has every encoder in `held` send what it holds. */
export function sendHeld(held: Held): void {
  if (held === undefined) return;
  if (!Array.isArray(held)) return held.sendHeld();
  for (const answer of held) answer.sendHeld();
}

/** For a decoder about to hand a chunk's frames on: what an outer one's encoders hold, to give back to `endHolding`. */
export function beginHolding(): Held {
  const outer = emitting.held;
  emitting.held = undefined;
  return outer;
}

/** What encoders held since `beginHolding`, for the decoder to have sent; `outer`'s are held again. */
export function endHolding(outer: Held): Held {
  const held = emitting.held;
  emitting.held = outer;
  return held;
}

/** Where `frame`, a view of `emitting.source` (its decoder says so), starts in it; -1 should it lie outside. */
function offsetInSource(frame: Buffer): number {
  const start = frame.byteOffset - emitting.sourceOffset;
  return start >= 0 && start + frame.length <= emitting.sourceLength ? start : -1;
}

/**
 * Where, in `emitting.source`, `frame` starts when `trailer` follows it there (its answer is the
 * `frame.length + trailer.length` bytes from there); -1 when it must be copied.
 */
export function trailerStart(frame: Buffer, trailer: Buffer): number {
  const { source, after } = emitting;
  if (frame !== emitting.frame || source === undefined || trailer.length > after) return -1;
  const start = offsetInSource(frame);
  const end = start + frame.length;
  if (start < 0 || end + trailer.length > emitting.sourceLength) return -1;
  for (let i = 0; i < trailer.length; i++) if (source[end + i] !== trailer[i]) return -1;
  return start;
}

/** Reads the number in a header that starts at `at` and lies whole in `bytes`. */
export type HeaderReader = (bytes: Buffer, at: number) => number;

/**
 * Where, in `emitting.source`, a `headerBytes`-long header holding `value` comes right before
 * `frame` (its answer is the `headerBytes + frame.length` bytes from there); -1 when it must be copied.
 */
export function headerStart(frame: Buffer, headerBytes: number, value: number, readHeader: HeaderReader): number {
  const { source, before } = emitting;
  if (frame !== emitting.frame || source === undefined || headerBytes > before) return -1;
  const start = offsetInSource(frame) - headerBytes;
  if (start < 0) return -1;
  return readHeader(source, start) === value ? start : -1;
}
