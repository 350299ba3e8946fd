import { OperatorFunction } from 'rxjs';
import { respDecoder, RespOptions, RespValue } from '../codecs/resp';
import { decode, FrameOptions } from './decode';

/**
 * Reads a byte stream as RESP, the Redis protocol: one `RespValue` per top-level value, RESP2
 * and RESP3, and with `inlineCommands` the lines a person types into `nc` (`PING`). A bulk string
 * longer than `maxBulkLength` (default 16 MiB) is `FrameTooLong` from its header alone; an
 * aggregate past `maxArrayLength` or `maxDepth` is `RespLimitExceeded`; bytes that are no RESP are
 * `DecodeError`. Each ends the stream after the values before it.
 *
 * ```ts
 * serve({ port: 6379 }, pipe(resp({ inlineCommands: true }), map(execute), encodeResp()));
 * ```
 */
export function resp(options: RespOptions & FrameOptions = {}): OperatorFunction<Buffer, RespValue> {
  const { frameTimeoutMs, ...codec } = options;
  return decode(respDecoder(codec), frameTimeoutMs === undefined ? {} : { frameTimeoutMs });
}
