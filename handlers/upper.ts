import { map, OperatorFunction, pipe } from 'rxjs';
import { backpressure, closeOnEmptyRead, Handler, upperBytes, upperInPlace } from 'rxwire';

export { upperBytes, upperInPlace };

/** Uppercases every chunk's ASCII letters into a new Buffer; safe across chunk boundaries since it never joins bytes. */
export function upper(): OperatorFunction<Buffer, Buffer> {
  return map(upperBytes);
}

/**
 * The seed's server: read until the empty read, answer every chunk uppercased, never outrun the
 * reader. Each read is uppercased where it lies: the pipeline owns it and nothing else sees it.
 */
const handler: Handler = pipe(backpressure(), closeOnEmptyRead(), map(upperInPlace));
export default handler;
