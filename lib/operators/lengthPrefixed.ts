import { Either } from 'fp-ts/Either';
import { OperatorFunction } from 'rxjs';
import { DecoderFactory } from '../codecs/codec';
import { FailOnError, OnError, SkipOnError } from '../codecs/skipping';
import { lengthPrefixedDecoder, lengthPrefixedSeparators, LengthPrefixedOptions } from '../codecs/lengthPrefixed';
import { FrameTooLong, IncompleteFrame } from '../core/errors';
import { decodeFrames, FrameOptions } from './decode';

/**
 * Reads frames that start with their length as a 1-, 2- or 4-byte number (big-endian unless
 * told) and emits their payloads. A length past `maxLength` (default 16 MiB) errors with
 * `FrameTooLong` at once, before any payload is buffered; input that ends inside a frame errors
 * with `IncompleteFrame`. With `onError: 'skip'` both come as Lefts instead, every payload as an
 * `Either`: the payload past the limit is dropped as it arrives, never held, and the frames after
 * it are read.
 *
 * ```ts
 * serve({ port: 9000 }, pipe(lengthPrefixed({ headerBytes: 4 }), map(handle), encodeLengthPrefixed({ headerBytes: 4 })));
 * ```
 */
export function lengthPrefixed(options: LengthPrefixedOptions & FrameOptions & FailOnError): OperatorFunction<Buffer, Buffer>;
export function lengthPrefixed(
  options: LengthPrefixedOptions & FrameOptions & SkipOnError,
): OperatorFunction<Buffer, Either<FrameTooLong | IncompleteFrame, Buffer>>;
export function lengthPrefixed(options: LengthPrefixedOptions & FrameOptions & { onError?: OnError }): OperatorFunction<Buffer, Buffer | Either<FrameTooLong | IncompleteFrame, Buffer>> {
  const { frameTimeoutMs, ...codec } = options;
  // One factory type or the other, as `onError` says; decode() runs either. Skipped payloads come
  // as Eithers, which no encoder answers in place: only payloads that fail on error are cut for it.
  const decoder = lengthPrefixedDecoder(codec as LengthPrefixedOptions & FailOnError) as DecoderFactory<Buffer | Either<FrameTooLong | IncompleteFrame, Buffer>>;
  const separators = codec.onError === 'skip' ? undefined : lengthPrefixedSeparators(codec as LengthPrefixedOptions);
  return decodeFrames('length-prefixed', decoder, separators, frameTimeoutMs === undefined ? {} : { frameTimeoutMs });
}
