import { OperatorFunction } from 'rxjs';
import { respEncoder } from '../codecs/respEncoder';
import { RespValue } from '../codecs/respValue';
import { encode } from './encode';

/**
 * Writes each `RespValue` as RESP, one Buffer per value. A simple string or error holding CR or
 * LF errors the stream with `DecodeError`, as it could not be read back.
 *
 * ```ts
 * pipe(resp(), map(() => ({ type: 'simple', value: 'PONG' }) as const), encodeResp())
 * ```
 */
export function encodeResp(): OperatorFunction<RespValue, Buffer> {
  return encode(respEncoder());
}
