import { OperatorFunction } from 'rxjs';
import { RespCommand, respCommandDecoder, RespCommandOptions } from '../codecs/respCommand';
import { decode, FrameOptions } from './decode';

/**
 * Reads a byte stream as a Redis server reads it: one `RespCommand` (its words as latin1 strings)
 * per command, sent as an array of bulk strings or typed inline into `nc`. Errors in Redis's words
 * (lib/codecs/respCommand.ts) end the stream after the commands before it. Where `resp()` gives a
 * `RespValue` per command and per argument, this gives one array of strings: what a server's
 * per-command work needs, and nothing more.
 *
 * ```ts
 * serve({ port: 6379 }, pipe(respCommands(), map(execute), encodeResp()));
 * ```
 */
export function respCommands(options: RespCommandOptions & FrameOptions = {}): OperatorFunction<Buffer, RespCommand> {
  const { frameTimeoutMs, ...codec } = options;
  return decode(respCommandDecoder(codec), { codec: 'resp', ...(frameTimeoutMs === undefined ? {} : { frameTimeoutMs }) });
}
