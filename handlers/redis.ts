import { catchError, defer, finalize, map, Observable, of, takeWhile, throwError } from 'rxjs';
import { backpressure, DEFAULTS, encodeResp, FrameTooLong, Handler, ProtocolError, respCommands, RespLimitExceeded } from 'rxwire';
import { Context, error, execute, Session } from './redis/commands';
import { Keyspace } from './redis/keyspace';

export interface RedisOptions {
  /** Bytes of stored keys and values past which writes get `-OOM …`. Default 64 MiB. */
  maxMemory?: number;
  /** Longest value a command may carry. Default 16 MiB (Redis allows 512 MB). */
  maxBulkLength?: number;
}

const MiB = 1024 * 1024;

/**
 * A small Redis: strings with expiry, in memory, spoken over RESP2 and RESP3 (`HELLO 3`) and
 * inline commands (`PING` typed into `nc`). Every connection of the server shares one keyspace;
 * each has its own session (protocol, name). Commands are answered in order as they arrive,
 * pipelined or not, and `backpressure()` stops reading from a client that does not read its replies.
 */
export function redisHandler(options: RedisOptions = {}): Handler & { readonly singleProcess: string } {
  const keyspace = new Keyspace({ maxMemory: options.maxMemory ?? 64 * MiB });
  const limits = { maxBulkLength: options.maxBulkLength ?? DEFAULTS.maxRespBulkLength, maxLineLength: DEFAULTS.maxRespLineLength };
  let sessions = 0;
  const handler = (input: Observable<Buffer>) =>
    defer(() => {
      const session: Session = { id: ++sessions, protocol: 2, name: undefined, quit: false };
      const context: Context = { keyspace, session };
      const closed = keyspace.open();
      return input.pipe(
        backpressure(),
        // Each command its words as latin1 strings, read as Redis reads them; what is no command
        // is a ProtocolError, answered below.
        respCommands(limits),
        map((command) => execute(command, context)),
        // QUIT ends the connection after its reply.
        takeWhile(() => !session.quit, true),
        catchError((err: unknown) => (err instanceof ProtocolError ? of(error(`ERR Protocol error: ${redisWords(err, limits)}`)) : throwError(() => err))),
        encodeResp(),
        finalize(closed),
      );
    });
  return Object.assign(handler, { singleProcess: 'the redis handler keeps its keys in the memory of one process' });
}

/** Redis's words for what broke the protocol, where it has them. */
function redisWords(err: ProtocolError, limits: { maxBulkLength: number; maxLineLength: number }): string {
  if (err instanceof FrameTooLong) return err.limit === limits.maxBulkLength && !err.atLeast ? 'invalid bulk length' : 'too big inline request';
  if (err instanceof RespLimitExceeded) return 'invalid multibulk length';
  return err.message;
}

const redis = redisHandler();
export default redis;
