import * as E from 'fp-ts/Either';
import { DecodeError, FrameTooLong, IncompleteFrame, RespLimitExceeded } from '../core/errors';

/** What can go wrong turning bytes into frames, or frames into bytes. */
export type FrameError = FrameTooLong | IncompleteFrame | DecodeError | RespLimitExceeded;

/** What one step of decoding gives: the frames it completed, then an error if the input broke the protocol. */
export interface Decoded<F> {
  readonly frames: readonly F[];
  /** The frames before it are good; the decoder must not be used after it. */
  readonly error?: FrameError;
}

/**
 * Turns a byte stream into frames, like tokio-util's `Decoder`, with no RxJS in it. It keeps the
 * bytes of a frame that has not fully arrived; no frames in a step means it needs more.
 */
export interface Decoder<F> {
  /** Takes the next chunk of input. */
  decode(chunk: Buffer): Decoded<F>;
  /** The input has ended: the frame left in the buffered bytes, or an error for a cut one. */
  end(): Decoded<F>;
  /** Bytes held for a frame that has not fully arrived. */
  readonly buffered: number;
}

/** Makes a fresh decoder, with its own buffer, for each connection. */
export type DecoderFactory<F> = () => Decoder<F>;

/** Turns one frame into bytes, or says why it cannot be sent. */
export type Encoder<F> = (frame: F) => E.Either<FrameError, Buffer>;

/**
 * How many bytes a decoder drops before and after every frame it cuts from a chunk (a header, a
 * delimiter), and its promise that every frame of a step after the first is such a view of the
 * chunk. Plain data about the wire format: what lib/operators/internal/answerInPlace.ts needs to
 * answer a frame with the bytes it came in.
 */
export interface Separators {
  readonly before: number;
  readonly after: number;
}

/** Reads the number in a header that starts at `at` and lies whole in `bytes`. */
export type HeaderReader = (bytes: Buffer, at: number) => number;

/** The bytes an encoder puts around a frame: a fixed trailer (a delimiter) or a header holding the frame's length. */
export interface FrameFraming {
  /** How many bytes it adds to a frame. */
  readonly bytes: number;
  readonly trailer?: Buffer;
  readonly header?: { readonly bytes: number; readonly overhead: number; readonly maxLength: number; readonly read: HeaderReader };
}

/** An encoder for `encodeFrames()`: its bytes, and what it puts around a frame. */
export interface FrameEncoder<F> {
  /** The frame's bytes, in a Buffer of their own, or why it cannot be sent. */
  encode(frame: F): Buffer | FrameError;
  readonly framing: FrameFraming;
}

/** `encoder` as an `Encoder`. */
export function encoderOf<F>(encoder: FrameEncoder<F>): Encoder<F> {
  return (frame) => {
    const bytes = encoder.encode(frame);
    return Buffer.isBuffer(bytes) ? E.right(bytes) : E.left(bytes);
  };
}

export const nothingDecoded: Decoded<never> = Object.freeze({ frames: Object.freeze([]) });
