import { OperatorFunction } from 'rxjs';
import { linesFrameEncoder, LinesOptions } from '../codecs/lines';
import { encodeFrames } from './encodeFrames';

/**
 * Ends each line (a Buffer, or a string written as UTF-8) with the delimiter, default `\n`:
 * one Buffer out per line, copied once, or over a stream socket one per run of lines that
 * `lines()` cut from one read and that still lie there, changed in place or not at all.
 *
 * ```ts
 * serve({ port: 9000 }, pipe(lines(), map(reverse), encodeLines()));
 * ```
 */
export function encodeLines(options: Pick<LinesOptions, 'delimiter'> = {}): OperatorFunction<Buffer | string, Buffer> {
  return encodeFrames(linesFrameEncoder(options));
}
