import { Subscriber } from 'rxjs';
import { FrameFraming, Separators } from '../../codecs/codec';

/**
 * Answering a frame in place: rxwire's one fast path for framed protocols, and the only module
 * that knows it. When `lines()` (or `lengthPrefixed()`) cuts a frame from a read and the handler
 * hands that very frame to `encodeLines()` (`encodeLengthPrefixed()`), changed in place or not at
 * all, the answer is already in the read: the frame's bytes and, right after (before) them, the
 * delimiter (header) the encoder would write. The encoder then answers with a view of the read
 * instead of a copy, and while its output is a stream socket's (`Flow.joinsWrites`), it holds the
 * answers that lie end to end as one (start, end) run and emits one view per run, once the decoder
 * has handed on the read's last frame. A read of many frames answered so costs no allocation per
 * frame and goes out as one write; bench/README.md has the figures (line-framed rows).
 *
 * The state lives in a `ReadInPlace`, one per pipeline, kept on the end of the subscriber chain
 * both operators find (`readInPlaceOf`), so nothing is shared between connections:
 *
 * | state       | `source`     | `frame`                 | what an encoder given a frame does                       |
 * |-------------|--------------|-------------------------|----------------------------------------------------------|
 * | idle        | undefined    | undefined               | copies (`encode`)                                        |
 * | handing on  | the read     | the frame being handed  | that frame, its framing there: a view (held, to a        |
 * |             |              | on, if cut from it      | stream); anything else: sends what it holds, copies      |
 * | nested      | inner read   | inner frame             | as above; the outer read's state is put back after       |
 * | handed on   | back to what it was, and every encoder holding answers to the read sends them      |
 *
 * A frame is noted only when it is a view of the read (every frame of a step after its first is,
 * by the decoder's promise in `Separators`; the first is checked); a framing byte is taken in only
 * when it belongs to no frame (`Separators.before`/`after`), since the handler may change frames in
 * place before the held view is sent. Writes a read's handling makes are joined once more by the
 * stream socket (lib/transports/stream/readAnswer.ts): this module saves the allocation per frame,
 * that one the write per frame for answers that are copies.
 */
export class ReadInPlace {
  /** The frame being handed on, when it is a view of `source`. */
  frame: unknown = undefined;
  source: Buffer | undefined = undefined;
  /** `source.byteOffset` and `source.length`, read once per read rather than per frame. */
  sourceOffset = 0;
  sourceLength = 0;
  /** Bytes before and after every frame of the read that belong to no frame. */
  before = 0;
  after = 0;
  /** Encoders holding answers in place; most reads have one, kept alone with no array per read. */
  held: HeldAnswer | HeldAnswer[] | undefined = undefined;
}

/** An encoder's answers to frames of the read being handed on, joined into one view while they lie end to end. */
export interface HeldAnswer {
  sendHeld(): void;
}

const READ_IN_PLACE = Symbol('rxwire.read-in-place');
// Subscriber chains are as deep as the pipeline: a few dozen operators. The bound only stops a loop.
const MAX_CHAIN = 10_000;

/**
 * The state `subscriber`'s pipeline shares, kept on the last subscriber of its chain (the
 * transport's sink, say): a decoder and an encoder of one pipeline find the same, whatever lies
 * between them; a shared source (a Subject) makes another chain, whose encoders copy.
 */
export function readInPlaceOf(subscriber: Subscriber<unknown>): ReadInPlace {
  let link = subscriber as unknown as { destination?: unknown; [READ_IN_PLACE]?: ReadInPlace };
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const next = link.destination as { add?: unknown; unsubscribe?: unknown } | undefined;
    if (typeof next?.add !== 'function' || typeof next.unsubscribe !== 'function') break;
    link = next as typeof link;
  }
  return (link[READ_IN_PLACE] ??= new ReadInPlace());
}

/**
 * For a decoder: hands `frames`, cut from `chunk`, on to `subscriber`, noting each that is a view
 * of it; false once the subscriber is closed. Encoders that held answers send them before this returns.
 */
export function handOnInPlace(read: ReadInPlace, subscriber: Subscriber<Buffer>, chunk: Buffer, frames: readonly Buffer[], separators: Separators): boolean {
  if (frames.length === 0) return true;
  // An outer decode's state, if this one runs inside its emission: put back after (locals, not a copy per read).
  const { frame, source, sourceOffset, sourceLength, before, after, held } = read;
  read.held = undefined;
  // Set once: a decode nested downstream puts back what it changed before its frame's next() returns.
  read.source = chunk;
  read.sourceOffset = chunk.byteOffset;
  read.sourceLength = chunk.length;
  read.before = separators.before;
  read.after = separators.after;
  try {
    // Only a step's first frame may have begun in an earlier read.
    const first = frames[0]!;
    read.frame = first.buffer === chunk.buffer ? first : undefined;
    subscriber.next(first);
    for (let i = 1; i < frames.length; i++) {
      if (subscriber.closed) return false;
      read.frame = frames[i];
      subscriber.next(frames[i]!);
    }
    return !subscriber.closed;
  } finally {
    const answers = read.held;
    read.frame = frame;
    read.source = source;
    read.sourceOffset = sourceOffset;
    read.sourceLength = sourceLength;
    read.before = before;
    read.after = after;
    read.held = held;
    // Encoders send what they held for this read's frames before anything else is emitted.
    sendHeld(answers);
  }
}

/** Has `answer` sent when the decoder handing frames on now has handed on its read's last. */
export function holdUntilHandedOn(read: ReadInPlace, answer: HeldAnswer): void {
  const held = read.held;
  if (held === undefined) read.held = answer;
  else if (Array.isArray(held)) held.push(answer);
  else read.held = [held, answer];
}

function sendHeld(held: ReadInPlace['held']): void {
  if (held === undefined) return;
  if (!Array.isArray(held)) return held.sendHeld();
  for (const answer of held) answer.sendHeld();
}

/**
 * For an encoder: where, in `read.source`, the answer to `frame` starts when it is the frame being
 * handed on and the bytes `framing` puts around it lie there (the answer is then
 * `frame.length + framing.bytes` long); -1 when it must be encoded.
 */
export function answerStart(read: ReadInPlace, frame: unknown, framing: FrameFraming): number {
  if (frame !== read.frame || frame === undefined) return -1;
  const bytes = frame as Buffer;
  const start = bytes.byteOffset - read.sourceOffset;
  const end = start + bytes.length;
  if (start < 0 || end > read.sourceLength) return -1;
  const source = read.source!;
  const { trailer, header } = framing;
  if (trailer !== undefined) {
    if (trailer.length > read.after || end + trailer.length > read.sourceLength) return -1;
    for (let i = 0; i < trailer.length; i++) if (source[end + i] !== trailer[i]) return -1;
    return start;
  }
  if (header === undefined || header.bytes > read.before || start < header.bytes || bytes.length > header.maxLength) return -1;
  return header.read(source, start - header.bytes) === bytes.length + header.overhead ? start - header.bytes : -1;
}
