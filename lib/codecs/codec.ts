import * as E from 'fp-ts/Either';
import { DecodeError, FrameTooLong, IncompleteFrame, RespLimitExceeded } from '../core/errors';
import { emitting } from './frameOrigin';

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
  /**
   * For a decoder that drops bytes around each frame it cuts straight from a chunk: how many
   * always come right before such a frame (a header) and right after it (a delimiter). Encoders
   * may then answer a frame handed back unchanged in length with a view that takes them in.
   */
  readonly separators?: { readonly before: number; readonly after: number };
  /** With `separators`: from which index the frames of the last step are views cut straight from its chunk; undefined for none. */
  readonly cutFrom?: number;
}

/** Makes a fresh decoder, with its own buffer, for each connection. */
export type DecoderFactory<F> = () => Decoder<F>;

/** Turns one frame into bytes, or says why it cannot be sent. */
export type Encoder<F> = (frame: F) => E.Either<FrameError, Buffer>;

/**
 * An encoder that can answer a frame its decoder cut from the chunk being handed on with bytes
 * already there (lib/codecs/frameOrigin.ts), for `encodeLines()` and `encodeLengthPrefixed()`.
 */
export interface FrameEncoder<F> {
  /** Where the frame's answer starts in `emitting.source`, `frame.length + framingBytes` long; -1 when it must be encoded. */
  answerInPlace(frame: F): number;
  readonly framingBytes: number;
  /** The frame's bytes, in a Buffer of their own, or why it cannot be sent. */
  encode(frame: F): Buffer | FrameError;
}

/** `encoder` as an `Encoder`: a frame it finds in place is answered with a view of its chunk, any other is encoded. */
export function encoderOf<F>(encoder: FrameEncoder<F>): Encoder<F> {
  return (frame) => {
    const start = encoder.answerInPlace(frame);
    // Only a Buffer is ever found in place.
    const bytes = start < 0 ? encoder.encode(frame) : emitting.source!.subarray(start, start + (frame as Buffer).length + encoder.framingBytes);
    return Buffer.isBuffer(bytes) ? E.right(bytes) : E.left(bytes);
  };
}

export const nothingDecoded: Decoded<never> = { frames: [] };
