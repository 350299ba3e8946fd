import { OperatorFunction } from 'rxjs';
import { linesEncoder, LinesOptions } from '../codecs/lines';
import { encode } from './encode';

/**
 * Ends each line (a Buffer, or a string written as UTF-8) with the delimiter, default `\n`:
 * one Buffer out per line, copied once.
 *
 * ```ts
 * serve({ port: 9000 }, pipe(lines(), map(reverse), encodeLines()));
 * ```
 */
export function encodeLines(options: Pick<LinesOptions, 'delimiter'> = {}): OperatorFunction<Buffer | string, Buffer> {
  return encode(linesEncoder(options));
}
