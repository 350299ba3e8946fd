import * as t from 'io-ts';
import { map, OperatorFunction } from 'rxjs';
import { jsonFrameEncoder } from '../codecs/json';
import { decodeOptions, ioTsCodec } from '../core/options';

/**
 * Writes each value as JSON, encoded by `codec` first when given; no delimiter, so follow it
 * with a framing encoder.
 *
 * ```ts
 * pipe(lines(), json(Request), map(handle), encodeJson(), encodeLines())
 * ```
 */
export function encodeJson<A = unknown, O = A>(codec?: t.Encoder<A, O>): OperatorFunction<A, Buffer> {
  if (codec !== undefined) decodeOptions('encodeJson: codec', ioTsCodec('encode'), codec);
  return map(jsonFrameEncoder(codec));
}
