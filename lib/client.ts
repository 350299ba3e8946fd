import * as net from 'node:net';
import { Observable } from 'rxjs';
import { decodeOrThrow, NonEmptyString, Port, wholeNumber } from './config';
import * as t from 'io-ts';
import { Connection, formatHost, nextConnectionId } from './connection';

export const ConnectOptions = t.partial({
  host: NonEmptyString,
  port: Port,
  /** Unix domain socket path, instead of host and port. */
  path: NonEmptyString,
  /** Give up when the connection is not made within this long. Default 10 s. */
  timeoutMs: wholeNumber(1),
});
export type ConnectOptions = t.TypeOf<typeof ConnectOptions>;

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Connects on subscribe and emits the Connection once; completes when the socket has closed;
 * unsubscribing closes it. Errors when the connection can't be made within `timeoutMs`
 * (`connect ETIMEDOUT 127.0.0.1:50007`) or is refused (`connect ECONNREFUSED 127.0.0.1:50007`).
 *
 * ```ts
 * connect({ port: 50007 }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('hi')))))
 * ```
 */
export function connect(options: ConnectOptions): Observable<Connection> {
  const opts = decodeOrThrow(ConnectOptions, options, 'connect: ');
  const host = opts.host ?? '127.0.0.1';
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Observable<Connection>((subscriber) => {
    const socket =
      opts.path !== undefined
        ? net.connect({ path: opts.path, allowHalfOpen: true })
        : net.connect({ host, port: opts.port ?? 50007, allowHalfOpen: true, noDelay: true });
    const target = opts.path !== undefined ? `unix:${opts.path}` : formatHost(host, opts.port ?? 50007);
    const timer = setTimeout(() => {
      const err: NodeJS.ErrnoException = new Error(`connect ETIMEDOUT ${target}`);
      err.code = 'ETIMEDOUT';
      socket.destroy(err);
    }, timeoutMs);
    const failed = (err: Error) => subscriber.error(err);
    socket.once('error', failed);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      const conn = new Connection(socket, {
        id: nextConnectionId(),
        transport: opts.path !== undefined ? 'unix' : 'tcp',
        local: opts.path !== undefined ? target : formatHost(socket.localAddress, socket.localPort),
        remote: opts.path !== undefined ? target : formatHost(socket.remoteAddress, socket.remotePort),
      });
      socket.once('close', () => subscriber.complete());
      subscriber.next(conn);
    });
    return () => {
      clearTimeout(timer);
      socket.destroy();
    };
  });
}
