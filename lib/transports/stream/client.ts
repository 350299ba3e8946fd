import * as net from 'node:net';
import * as tls from 'node:tls';
import { Observable, retry, throwError, timer } from 'rxjs';
import { DEFAULTS } from '../../core/defaults';
import { InvalidOption } from '../../core/errors';
import { decodeOptions } from '../../core/options';
import { endpointName, formatHost, nextConnectionId } from '../identity';
import { AbortOptions, closeOnAbort, signalOf } from '../lifetime';
import { Connection } from './connection';
import { ConnectOptions } from './options';
import { tlsInfo } from './tlsInfo';

/**
 * Connects on subscribe and emits the Connection once; completes when the socket has closed;
 * unsubscribing closes it. Errors when the connection can't be made within `timeoutMs`
 * (`connect ETIMEDOUT 127.0.0.1:50007`), is refused (`connect ECONNREFUSED 127.0.0.1:50007`) or
 * its TLS handshake fails (`tls handshake with 127.0.0.1:50007 failed: self-signed certificate`).
 * With `retry`, only failures to connect are retried: once emitted, the connection's own errors
 * reach its `input` and `send`, never this Observable. Aborting `signal` errors with its reason
 * while connecting (no more retries), and closes the connection gracefully once made (`conn.close()`).
 *
 * ```ts
 * connect({ port: 50007 }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('hi')))))
 * ```
 */
export function connect(options: ConnectOptions, lifetime?: AbortOptions): Observable<Connection> {
  const opts = decodeOptions('connect', ConnectOptions, options);
  const signal = signalOf('connect', lifetime);
  const attempt = connectOnce(opts);
  const untilAborted = closeOnAbort<Connection>(signal, (conn) => void conn.close());
  if (!opts.retry) return attempt.pipe(untilAborted);
  const { count, delayMs } = opts.retry;
  // Options that Node cannot use fail every attempt alike: they are not tried again.
  return attempt.pipe(
    retry({ count, delay: (err, attempts) => (err instanceof InvalidOption ? throwError(() => err) : timer(delayMs * 2 ** (attempts - 1))) }),
    untilAborted,
  );
}

function connectOnce(opts: ConnectOptions): Observable<Connection> {
  const host = opts.host ?? DEFAULTS.clientHost;
  const port = opts.port ?? DEFAULTS.port;
  const timeoutMs = opts.timeoutMs ?? DEFAULTS.connectTimeoutMs;
  const target = endpointName(opts.path, host, port);
  return new Observable<Connection>((subscriber) => {
    const where = { ...(opts.path !== undefined ? { path: opts.path } : { host, port, noDelay: true }), allowHalfOpen: true };
    let socket: net.Socket;
    try {
      socket = opts.tls ? tls.connect({ ...where, ...opts.tls }) : net.connect(where);
    } catch (err) {
      // Key material Node cannot use (a wrong passphrase, a pfx that is not one) fails here, at once.
      return subscriber.error(new InvalidOption(`connect: tls: ${(err as { reason?: string }).reason ?? (err as Error).message}`));
    }
    const timer = setTimeout(() => {
      const err: NodeJS.ErrnoException = new Error(`connect ETIMEDOUT ${target}`);
      err.code = 'ETIMEDOUT';
      socket.destroy(err);
    }, timeoutMs);
    let handshaking = false;
    socket.once('connect', () => (handshaking = opts.tls !== undefined));
    const failed = (err: NodeJS.ErrnoException) => {
      if (!handshaking || err.code === 'ETIMEDOUT') return subscriber.error(err);
      // The TLS layer's errors name neither the server nor the stage: say both.
      subscriber.error(Object.assign(new Error(`tls handshake with ${target} failed: ${err.message}`, { cause: err }), { code: err.code }));
    };
    socket.once('error', failed);
    socket.once(opts.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      const conn = new Connection(socket, {
        id: nextConnectionId(),
        transport: opts.tls ? 'tls' : opts.path !== undefined ? 'unix' : 'tcp',
        local: opts.path !== undefined ? target : formatHost(socket.localAddress, socket.localPort),
        remote: opts.path !== undefined ? target : formatHost(socket.remoteAddress, socket.remotePort),
        ...(socket instanceof tls.TLSSocket ? { tls: tlsInfo(socket) } : {}),
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
