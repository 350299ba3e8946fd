import { OperatorFunction } from 'rxjs';
import { linesDecoder, linesSeparators, LinesOptions } from '../codecs/lines';
import { decodeFrames, FrameOptions } from './decode';

/**
 * Splits a byte stream into lines: one Buffer per line, without its delimiter (`\n`, and a `\r`
 * before it) unless `keepDelimiter`. A last line with no delimiter is emitted when the input ends.
 * A line longer than `maxLength` (default 64 KiB) errors with `FrameTooLong` as soon as it passes
 * the limit; no more than that is ever buffered. A line must arrive within `frameTimeoutMs`
 * (default 2 minutes) of its first byte, or the stream errors with `FrameTimeout`.
 *
 * ```ts
 * serve({ port: 9000 }, pipe(lines({ maxLength: 8192 }), map(reverse), encodeLines()));
 * ```
 */
export function lines(options: LinesOptions & FrameOptions = {}): OperatorFunction<Buffer, Buffer> {
  const { frameTimeoutMs, ...codec } = options;
  return decodeFrames(linesDecoder(codec), linesSeparators(codec), frameTimeoutMs === undefined ? {} : { frameTimeoutMs });
}
