import { map, OperatorFunction } from 'rxjs';
import { lineEncoder, LinesOptions } from '../codecs/lines';

/**
 * Ends each line (a Buffer, or a string written as UTF-8) with the delimiter, default `\n`:
 * one Buffer out per line, copied once.
 *
 * ```ts
 * serve({ port: 9000 }, pipe(lines(), map(reverse), encodeLines()));
 * ```
 */
export function encodeLines(options: Pick<LinesOptions, 'delimiter'> = {}): OperatorFunction<Buffer | string, Buffer> {
  // A line always encodes: no Either per line, as encode() would make.
  return map(lineEncoder(options));
}
