import { Either } from 'fp-ts/Either';
import * as t from 'io-ts';
import { map, OperatorFunction } from 'rxjs';
import { jsonFrameDecoder, JsonOptions } from '../codecs/json';
import { DecodeError } from '../core/errors';

/**
 * Reads each frame as JSON checked by an io-ts codec. A frame that is not JSON or not the right
 * shape comes out as Left(`DecodeError`) with one line (`.a: expected number, got "x"`), not as
 * an error, so a handler can answer it and keep the connection.
 *
 * ```ts
 * pipe(lines(), json(Request), map(E.match(badRequest, handle)), encodeJson(), encodeLines())
 * ```
 */
export function json<A>(codec: t.Decoder<unknown, A>, options: JsonOptions = {}): OperatorFunction<Buffer, Either<DecodeError, A>> {
  return map(jsonFrameDecoder(codec, options));
}
