import { Either } from 'fp-ts/Either';
import { OperatorFunction } from 'rxjs';
import { DecoderFactory } from '../codecs/codec';
import { FailOnError, OnError, SkipOnError } from '../codecs/skipping';
import { linesDecoder, linesSeparators, LinesOptions } from '../codecs/lines';
import { FrameTooLong } from '../core/errors';
import { decodeFrames, FrameOptions } from './decode';

/**
 * Splits a byte stream into lines: one Buffer per line, without its delimiter (`\n`, and a `\r`
 * before it) unless `keepDelimiter`. A last line with no delimiter is emitted when the input ends.
 * A line longer than `maxLength` (default 64 KiB) errors with `FrameTooLong` as soon as it passes
 * the limit; no more than that is ever buffered. With `onError: 'skip'` it is dropped instead, up
 * to its delimiter, and reported once as a Left, and the lines after it are read: every line comes
 * as an `Either`, as from `json()`. A line must arrive within `frameTimeoutMs` (default 2 minutes)
 * of its first byte, or the stream errors with `FrameTimeout`.
 *
 * ```ts
 * serve({ port: 9000 }, pipe(lines({ maxLength: 8192 }), map(reverse), encodeLines()));
 * ```
 */
export function lines(options?: LinesOptions & FrameOptions & FailOnError): OperatorFunction<Buffer, Buffer>;
export function lines(options: LinesOptions & FrameOptions & SkipOnError): OperatorFunction<Buffer, Either<FrameTooLong, Buffer>>;
export function lines(options: LinesOptions & FrameOptions & { onError?: OnError } = {}): OperatorFunction<Buffer, Buffer | Either<FrameTooLong, Buffer>> {
  const { frameTimeoutMs, ...codec } = options;
  // One factory type or the other, as `onError` says; decode() runs either. Skipped lines come as
  // Eithers, which no encoder answers in place: only lines that fail on error are cut for it.
  const decoder = linesDecoder(codec as LinesOptions & FailOnError) as DecoderFactory<Buffer | Either<FrameTooLong, Buffer>>;
  const separators = codec.onError === 'skip' ? undefined : linesSeparators(codec as LinesOptions);
  return decodeFrames('lines', decoder, separators, frameTimeoutMs === undefined ? {} : { frameTimeoutMs });
}
