import { Either } from 'fp-ts/Either';
import { OperatorFunction } from 'rxjs';
import { DecoderFactory } from '../codecs/codec';
import { fixedSizeDecoder } from '../codecs/fixedSize';
import { FailOnError, OnError, SkipOnError } from '../codecs/skipping';
import { IncompleteFrame } from '../core/errors';
import { decodeFrames, FrameOptions } from './decode';

/**
 * Cuts a byte stream into frames of exactly `size` bytes. Input that ends part-way through a
 * frame errors with `IncompleteFrame`; with `onError: 'skip'` that comes as a last Left instead,
 * every frame as an `Either`, and the stream completes.
 *
 * ```ts
 * serve({ port: 9000 }, pipe(fixedSize(16), map(lookupRecord)));
 * ```
 */
export function fixedSize(size: number, options?: FrameOptions & FailOnError): OperatorFunction<Buffer, Buffer>;
export function fixedSize(size: number, options: FrameOptions & SkipOnError): OperatorFunction<Buffer, Either<IncompleteFrame, Buffer>>;
export function fixedSize(size: number, options: FrameOptions & { onError?: OnError } = {}): OperatorFunction<Buffer, Buffer | Either<IncompleteFrame, Buffer>> {
  const { onError, ...frame } = options;
  // One factory type or the other, as `onError` says; decode() runs either.
  const decoder = fixedSizeDecoder(size, (onError === undefined ? {} : { onError }) as FailOnError) as DecoderFactory<Buffer | Either<IncompleteFrame, Buffer>>;
  return decodeFrames('fixed-size', decoder, undefined, frame);
}
