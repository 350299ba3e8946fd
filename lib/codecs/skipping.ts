import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { Decoded, Decoder, DecoderFactory, FrameError } from './codec';

/**
 * What a framing decoder does with a frame that breaks a limit it can step over: `fail` ends the
 * stream with the error, after the frames before it (the default); `skip` drops that frame,
 * reports its error once as a Left among the frames, and goes on with the next, as tokio's
 * `LinesCodec` does in its discard mode. Errors a decoder cannot step over still end the stream.
 */
export type OnError = 'fail' | 'skip';

export const OnError = t.keyof({ fail: null, skip: null });

/** The options of a decoder that fails at a bad frame: `onError` left out, or `fail`. */
export interface FailOnError {
  onError?: 'fail';
}

/** The options of a decoder that skips the frames it can step over, reporting each as a Left. */
export interface SkipOnError {
  onError: 'skip';
}

/**
 * A decoder that reports what it skipped as Lefts: `newDecoder` makes one that, told to skip,
 * gives each error it stepped over among its frames (an Error never is a frame). The input ending
 * inside a frame is skipped too: its error comes as a last Left, and the stream completes.
 */
export function skipping<F, E extends FrameError>(newDecoder: () => Decoder<F | E>): DecoderFactory<E.Either<E, F>> {
  return () => new SkippingDecoder<F, E>(newDecoder());
}

class SkippingDecoder<F, E extends FrameError> implements Decoder<E.Either<E, F>> {
  constructor(private readonly inner: Decoder<F | E>) {}

  get buffered(): number {
    return this.inner.buffered;
  }

  decode(chunk: Buffer): Decoded<E.Either<E, F>> {
    return eithers<F, E>(this.inner.decode(chunk), false);
  }

  end(): Decoded<E.Either<E, F>> {
    return eithers<F, E>(this.inner.end(), true);
  }
}

function eithers<F, E extends FrameError>(decoded: Decoded<F | E>, last: boolean): Decoded<E.Either<E, F>> {
  const frames = decoded.frames.map((frame): E.Either<E, F> => (frame instanceof Error ? E.left(frame as E) : E.right(frame as F)));
  if (decoded.error === undefined) return { frames };
  // At the end of input there is nothing left to resynchronise with: the error is the last frame.
  return last ? { frames: [...frames, E.left(decoded.error as E)] } : { frames, error: decoded.error };
}
