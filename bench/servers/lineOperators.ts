import { OperatorFunction } from 'rxjs';
import * as rxwire from 'rxwire';

/** The line framing of issue #3, as the bench uses it. */
export interface LineOperators {
  lines(): OperatorFunction<Buffer, Buffer>;
  encodeLines(): OperatorFunction<Buffer, Buffer>;
}

/**
 * `lines()` and `encodeLines()` from rxwire, or undefined while the library does not export them
 * yet: looked up at run time so that the line-framed scenarios light up once they land.
 */
export function lineOperators(): LineOperators | undefined {
  const exported: Record<string, unknown> = rxwire;
  const { lines, encodeLines } = exported;
  if (typeof lines !== 'function' || typeof encodeLines !== 'function') return undefined;
  return { lines: lines as LineOperators['lines'], encodeLines: encodeLines as LineOperators['encodeLines'] };
}
