import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Observable } from 'rxjs';
import { DEFAULTS } from '../../core/defaults';
import { IdleTimeout, InvalidOption } from '../../core/errors';
import { ConnectionInfo, Handler, Transport } from '../../core/handler';
import { decodeOptions } from '../../core/options';
import { idleTimeout } from '../../operators/idleTimeout';
import { formatHost } from '../address';
import { describeFailure, handlerOutput, Hosting, Log, logger, nextConnectionId, Server } from '../hosting';
import { Connection } from './connection';
import { ServeOptions } from './options';

/**
 * Listens and runs `handler` on every accepted connection: what the handler emits is written in
 * order; when it completes our side is ended after flushing; when it errors, only its own
 * connection is closed. With `tls`, connections are TLS sockets, the same Observable to the
 * handler; a client whose handshake fails is logged and affects no other. Resolves once listening.
 *
 * ```ts
 * const server = await serve({ port: 50007 }, pipe(backpressure(), closeOnEmptyRead(), upper()));
 * ```
 */
export async function serve(options: ServeOptions, handler: Handler): Promise<Server> {
  const opts = decodeOptions('serve', ServeOptions, options);
  if (opts.path !== undefined && (opts.port !== undefined || opts.host !== undefined)) {
    throw new InvalidOption('serve: path cannot be combined with host or port');
  }
  const hosting = new Hosting<Connection>(logger(opts.log), opts.graceMs);
  const log = hosting.log;
  const transport: Transport = opts.tls ? 'tls' : opts.path !== undefined ? 'unix' : 'tcp';
  const local = (socket: net.Socket) => (opts.path !== undefined ? `unix:${opts.path}` : formatHost(socket.localAddress, socket.localPort));
  const remote = (socket: net.Socket) => (opts.path !== undefined ? `unix:${opts.path}` : formatHost(socket.remoteAddress, socket.remotePort));

  const socketOptions: net.ServerOpts = { pauseOnConnect: true, noDelay: true, highWaterMark: opts.highWaterMark ?? DEFAULTS.highWaterMark };
  // A TLS socket is made half-open only once its handshake is done: one half-open during the
  // handshake would outlive a client that hung up mid-handshake by the whole handshake timeout.
  const server = opts.tls ? createTlsServer({ ...socketOptions, ...opts.tls }) : net.createServer({ ...socketOptions, allowHalfOpen: true });
  if (opts.maxConnections !== undefined) server.maxConnections = opts.maxConnections;

  server.on('drop', (peer) => log(`refused ${formatHost(peer?.remoteAddress, peer?.remotePort)}: ${opts.maxConnections} connections open`));
  if (server instanceof tls.Server) logHandshakeFailures(server, opts.path === undefined, remote, log);
  server.on(opts.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    socket.allowHalfOpen = true; // already so over TCP; over TLS from now on
    const info: ConnectionInfo = { id: nextConnectionId(), transport, local: local(socket), remote: remote(socket) };
    const conn = new Connection(socket, info, socketOptions.highWaterMark);
    hosting.opened(conn);
    socket.once('close', () => hosting.closed(conn));
    const failed = (err: unknown) => {
      if (err instanceof IdleTimeout) {
        log(`#${info.id} ${err.message}, closing`);
        conn.end();
      } else {
        log(`#${info.id} ${describeFailure(err)}`);
        conn.destroy();
      }
    };
    let output: Observable<Buffer>;
    try {
      output = handlerOutput(handler, conn.input, info);
      if (opts.idleMs !== undefined) output = output.pipe(idleTimeout(opts.idleMs));
    } catch (err) {
      return failed(err);
    }
    conn.send(output).subscribe({ error: failed });
  });

  if (opts.path !== undefined) await removeStaleSocket(opts.path);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Node's listen() takes a `port` key, even an undefined one, as "TCP on any port".
    const where = opts.path !== undefined ? { path: opts.path } : { host: opts.host, port: opts.port ?? 0 };
    server.listen({ ...where, backlog: opts.backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // After listening, a server error (EMFILE on accept, say) is logged; the server goes on.
  server.on('error', (err) => log(`server: ${err.message}`));

  const bound = server.address();
  return {
    transport,
    address: typeof bound === 'string' || bound === null ? `unix:${opts.path}` : formatHost(bound.address, bound.port),
    port: typeof bound === 'object' && bound !== null ? bound.port : undefined,
    get connections() {
      return hosting.open.size;
    },
    close: (graceMs) =>
      hosting.close(
        graceMs,
        (done) => server.close(() => done()),
        (conn) => conn.destroy(),
      ),
  };
}

/**
 * Logs every failed TLS handshake in one line; Node has destroyed the socket already. When a TCP
 * client hung up first, the TLS socket has lost its peer's address by the time Node reports it:
 * such a failure is logged from the TCP socket under it, which keeps the address and closes first.
 */
function logHandshakeFailures(server: tls.Server, overTcp: boolean, remote: (socket: net.Socket) => string, log: Log): void {
  // TCP peers whose handshake is done or whose failure is logged, until their TCP socket closes.
  const settled = new Set<string>();
  server.on('tlsClientError', (err: Error & { reason?: string }, socket: tls.TLSSocket) => {
    // Without its address, the TLS socket's failure is logged when the TCP socket under it closes.
    if (overTcp && socket.remoteAddress === undefined) return;
    if (overTcp) settled.add(remote(socket));
    log(`tls handshake with ${remote(socket)} failed: ${err.reason ?? err.message.split('\n')[0]}`);
  });
  if (!overTcp) return;
  server.on('secureConnection', (socket: tls.TLSSocket) => settled.add(remote(socket)));
  server.on('connection', (raw: net.Socket) => {
    const peer = remote(raw);
    raw.once('close', () => settled.delete(peer) || log(`tls handshake with ${peer} failed: the client hung up`));
  });
}

/** A TLS server, or a one-line InvalidOption when its certificate and key make none (`key values mismatch`). */
function createTlsServer(options: tls.TlsOptions): tls.Server {
  try {
    return tls.createServer(options);
  } catch (err) {
    throw new InvalidOption(`serve: tls: ${(err as { reason?: string }).reason ?? (err as Error).message}`);
  }
}

/** A socket file left by a dead server is removed; one a live server answers on is an error. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw new Error(`listen EADDRINUSE: ${path} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`listen EADDRINUSE: a server is already listening on ${path}`);
  unlinkSync(path);
}
