import { Either } from 'fp-ts/Either';
import { OperatorFunction } from 'rxjs';
import { DecoderFactory } from '../codecs/codec';
import { respDecoder, RespOptions } from '../codecs/resp';
import { RespValue } from '../codecs/respValue';
import { FailOnError, OnError, SkipOnError } from '../codecs/skipping';
import { FrameTooLong, IncompleteFrame } from '../core/errors';
import { decodeFrames, FrameOptions } from './decode';

/**
 * Reads a byte stream as RESP, the Redis protocol: one `RespValue` per top-level value, RESP2
 * and RESP3, and with `inlineCommands` the lines a person types into `nc` (`PING`). A bulk string
 * longer than `maxBulkLength` (default 16 MiB) is `FrameTooLong` from its header alone; an
 * aggregate past `maxArrayLength` or `maxDepth` is `RespLimitExceeded`; bytes that are no RESP are
 * `DecodeError`. Each ends the stream after the values before it. With `onError: 'skip'` a value
 * holding a bulk string past the limit, or a top-level line past `maxLineLength`, is dropped and
 * reported as a Left instead, every value as an `Either`, and the values after it are read.
 *
 * ```ts
 * serve({ port: 6379 }, pipe(resp({ inlineCommands: true }), map(execute), encodeResp()));
 * ```
 */
export function resp(options?: RespOptions & FrameOptions & FailOnError): OperatorFunction<Buffer, RespValue>;
export function resp(options: RespOptions & FrameOptions & SkipOnError): OperatorFunction<Buffer, Either<FrameTooLong | IncompleteFrame, RespValue>>;
export function resp(options: RespOptions & FrameOptions & { onError?: OnError } = {}): OperatorFunction<Buffer, RespValue | Either<FrameTooLong | IncompleteFrame, RespValue>> {
  const { frameTimeoutMs, ...codec } = options;
  // One factory type or the other, as `onError` says; decode() runs either.
  const decoder = respDecoder(codec as RespOptions & FailOnError) as DecoderFactory<RespValue | Either<FrameTooLong | IncompleteFrame, RespValue>>;
  return decodeFrames('resp', decoder, undefined, frameTimeoutMs === undefined ? {} : { frameTimeoutMs });
}
