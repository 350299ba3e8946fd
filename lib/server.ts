import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import { isObservable, Observable } from 'rxjs';
import { decodeOrThrow, ServeOptions } from './config';
import { Connection, ConnectionInfo, formatHost, Handler, nextConnectionId, Transport } from './connection';
import { IdleTimeout } from './errors';
import { idleTimeout } from './operators/idleTimeout';

export interface Server {
  /** Where it listens: `[::]:50007`, `127.0.0.1:41234`, `unix:/tmp/rxwire.sock`. */
  readonly address: string;
  /** The real TCP port (useful after `port: 0`); undefined on a Unix socket. */
  readonly port: number | undefined;
  /** Connections open right now. */
  readonly connections: number;
  /**
   * Stops accepting at once, lets open connections finish for up to `graceMs` (default: the
   * `graceMs` option, else 5 s), then destroys what is left. Resolves once every socket is closed.
   */
  close(graceMs?: number): Promise<void>;
}

const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
const DEFAULT_GRACE_MS = 5000;

/**
 * Listens and runs `handler` on every accepted connection: what the handler emits is written in
 * order; when it completes our side is ended after flushing; when it errors, only its own
 * connection is closed. Resolves once listening.
 *
 * ```ts
 * const server = await serve({ port: 50007 }, pipe(backpressure(), closeOnEmptyRead(), upper()));
 * ```
 */
export async function serve(options: ServeOptions, handler: Handler): Promise<Server> {
  const opts = decodeOrThrow(ServeOptions, options, 'serve: ') as ServeOptions;
  if (opts.path !== undefined && (opts.port !== undefined || opts.host !== undefined)) {
    throw new TypeError('serve: path cannot be combined with host or port');
  }
  const log = opts.log === false ? () => {} : (opts.log ?? ((line: string) => process.stderr.write(`${line}\n`)));
  const transport: Transport = opts.path !== undefined ? 'unix' : 'tcp';
  const open = new Set<Connection>();

  const server = net.createServer({
    allowHalfOpen: true,
    pauseOnConnect: true,
    noDelay: true,
    highWaterMark: opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
  });
  if (opts.maxConnections !== undefined) server.maxConnections = opts.maxConnections;

  server.on('drop', (peer) => log(`refused ${formatHost(peer?.remoteAddress, peer?.remotePort)}: ${opts.maxConnections} connections open`));
  server.on('connection', (socket) => {
    const info: ConnectionInfo = {
      id: nextConnectionId(),
      transport,
      local: transport === 'unix' ? `unix:${opts.path}` : formatHost(socket.localAddress, socket.localPort),
      remote: transport === 'unix' ? `unix:${opts.path}` : formatHost(socket.remoteAddress, socket.remotePort),
    };
    const conn = new Connection(socket, info);
    open.add(conn);
    log(`#${info.id} open ${info.remote}`);
    socket.once('close', () => {
      open.delete(conn);
      log(`#${info.id} closed ${info.remote}: ${conn.bytesRead} bytes in, ${conn.bytesWritten} bytes out, ${Date.now() - conn.openedAt} ms`);
    });
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
      output = handler(conn.input, info);
      if (!isObservable(output)) throw new TypeError(`the handler must return an Observable, got ${typeof output}`);
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
  const address = typeof bound === 'string' || bound === null ? `unix:${opts.path}` : formatHost(bound.address, bound.port);
  let closing: Promise<void> | undefined;
  return {
    address,
    port: typeof bound === 'object' && bound !== null ? bound.port : undefined,
    get connections() {
      return open.size;
    },
    close(graceMs = opts.graceMs ?? DEFAULT_GRACE_MS) {
      closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => open.forEach((conn) => conn.destroy()), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}

function describeFailure(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // Socket errors (ECONNRESET, EPIPE, …) are the peer's doing; anything else came from the handler.
    return code !== undefined && err.message.includes(code) ? err.message : `handler error: ${err.message}`;
  }
  return `handler error: ${String(err)}`;
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
