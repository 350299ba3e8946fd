import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Observable } from 'rxjs';
import { DEFAULTS } from '../../core/defaults';
import { InvalidOption, RxwireError } from '../../core/errors';
import { RefusedEvent } from '../../core/events';
import { ConnectionInfo, Handler, Transport } from '../../core/handler';
import { decodeOptions } from '../../core/options';
import { endpointName, formatHost, nextConnectionId, PeerName } from '../identity';
import { Admission, descriptorCap } from './admission';
import { BufferBudget } from '../transportConnection';
import { checkHandler, handlerOutput, Hosting, Server, untilListening } from '../hosting';
import { logSink } from '../log/sink';
import { AbortOptions, liveSignalOf } from '../lifetime';
import { EventStream } from '../serverEvents';
import { Connection, ConnectionLimits } from './connection';
import { IdleWatch } from './idleWatch';
import { ServeOptions } from './options';
import { ProxiedAddresses, ProxyHeaderGate } from './proxyProtocol';
import { tlsInfo } from './tlsInfo';

// Addresses that take connections to any of the host's addresses.
const WILDCARDS = new Set(['::', '0.0.0.0', '::ffff:0.0.0.0']);
// How long the probe of an existing Unix socket file waits for an answer before taking it as alive.
const UNIX_PROBE_MS = 1000;

/**
 * Listens and runs `handler` on every accepted connection: what the handler emits is written in
 * order; when it completes our side is ended after flushing; when it errors, only its own
 * connection is closed. With `tls`, connections are TLS sockets, the same Observable to the
 * handler; a client whose handshake fails is logged and affects no other. Resolves once listening.
 * Aborting `signal` closes it as `close()` does; so does the end of an `await using` block.
 *
 * ```ts
 * const server = await serve({ port: 50007 }, pipe(backpressure(), closeOnEmptyRead(), upper()));
 * ```
 */
export function serve(options: ServeOptions, handler: Handler, lifetime?: AbortOptions): Promise<Server> {
  return host(options, handler, undefined, lifetime);
}

/**
 * `serve()` accepting on a socket another process bound and handed over (a cluster supervisor's,
 * passed over IPC: see sharedListener.ts) instead of binding its own address.
 */
export function serveOnSharedSocket(options: ServeOptions, handler: Handler, socket: object): Promise<Server> {
  return host(options, handler, socket);
}

async function host(options: ServeOptions, handler: Handler, sharedSocket: object | undefined, lifetime?: AbortOptions): Promise<Server> {
  const opts = decodeOptions('serve', ServeOptions, options);
  checkHandler('serve', handler);
  const signal = liveSignalOf('serve', lifetime);
  if (opts.path !== undefined && (opts.port !== undefined || opts.host !== undefined)) {
    throw new InvalidOption('serve: path cannot be combined with host or port');
  }
  const transport: Transport = opts.tls ? 'tls' : opts.path !== undefined ? 'unix' : 'tcp';
  const hosting = new Hosting<Connection>(transport, logSink('serve', opts), opts.graceMs);
  const events = hosting.events;
  // Every socket of a server bound to one address (or a Unix socket's path) has that address at its
  // end: it is known once listening, with no getsockname() per connection. On a wildcard address,
  // each socket is asked; most arrive at the same address as the one before, whose text is reused
  // rather than held again by each connection.
  let ownAddress: string | undefined;
  let lastLocal: { address: string | undefined; port: number | undefined; text: string } | undefined;
  const local = (socket: net.Socket) => {
    if (ownAddress !== undefined) return ownAddress;
    const { localAddress: address, localPort: port } = socket;
    if (lastLocal === undefined || address !== lastLocal.address || port !== lastLocal.port) lastLocal = { address, port, text: formatHost(address, port) };
    return lastLocal.text;
  };
  const remote: PeerName = (peer) => endpointName(opts.path, peer.remoteAddress, peer.remotePort);

  const highWaterMark = opts.highWaterMark ?? DEFAULTS.highWaterMark;
  const socketOptions: net.ServerOpts = { pauseOnConnect: true, noDelay: true, highWaterMark };
  const idleMs = opts.idleMs || undefined;
  // An idle limit holds during the handshake too: a silent peer is the same peer either way.
  const handshakeTimeout = Math.min(opts.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs, idleMs ?? Infinity);
  // A TLS socket is made half-open only once its handshake is done: one half-open during the
  // handshake would outlive a client that hung up mid-handshake by the whole handshake timeout.
  const tlsServer = opts.tls ? createTlsServer({ ...socketOptions, ...opts.tls, handshakeTimeout }) : undefined;
  // Behind a proxy, a plain server takes each socket and reads its PROXY header first; over TLS
  // it then hands the socket to the TLS server, since the header comes before the handshake.
  const server: net.Server = tlsServer && !opts.proxyProtocol ? tlsServer : net.createServer({ ...socketOptions, allowHalfOpen: !tlsServer });
  const budget = new BufferBudget(opts.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes);
  const idle = idleMs !== undefined ? new IdleWatch(idleMs) : undefined;
  // Shared by the server's connections, with the one function each tells of its close.
  const limits: ConnectionLimits = { outputHighWaterMark: highWaterMark, lingerMs: opts.lingerMs, budget, idle, closed: (conn) => hosting.closed(conn) };
  const admission = new Admission(opts.maxConnections, opts.maxConnectionsPerAddress, events, remote);
  // Over plain TCP the OS-level check is cheapest; TLS connections are counted once their
  // handshake is done, so peers that never finish one cannot hold the places of real clients.
  // Every socket, handshaking or not, counts towards the process's descriptors.
  const descriptors = descriptorCap();
  const ownLimit = opts.tls ? undefined : opts.maxConnections;
  const byDescriptors = descriptors !== undefined && descriptors.cap < (ownLimit ?? Infinity);
  const socketLimit = byDescriptors ? descriptors.cap : ownLimit;
  if (socketLimit !== undefined) server.maxConnections = socketLimit;
  const [dropReason, dropLimit]: [RefusedEvent['reason'], number | undefined] = byDescriptors ? ['near-fd-limit', descriptors.limit] : ['max-connections', opts.maxConnections];
  server.on('drop', (peer) => admission.refused(remote(peer ?? {}), dropReason, dropLimit));
  const destroyHandshakes = tlsServer ? guardHandshakes(tlsServer, opts.path === undefined, remote, events) : () => {};

  const accept = (socket: net.Socket, proxied: ProxiedAddresses | undefined) => {
    if (!admission.admit(socket, hosting.open.size, proxied ? proxied.remoteAddress : socket.remoteAddress)) return;
    socket.allowHalfOpen = true; // already so over TCP; over TLS from now on
    const id = nextConnectionId();
    const localAddress = proxied?.local ?? local(socket);
    const remoteAddress = proxied?.remote ?? remote(socket);
    // Two literals rather than a spread of an empty object: no garbage, and one shape each.
    const info: ConnectionInfo =
      socket instanceof tls.TLSSocket
        ? { id, transport, local: localAddress, remote: remoteAddress, tls: tlsInfo(socket) }
        : { id, transport, local: localAddress, remote: remoteAddress };
    const conn = new Connection(socket, info, limits);
    hosting.opened(conn);
    let output: Observable<Buffer>;
    try {
      output = handlerOutput(handler, conn.input, info);
    } catch (err) {
      return failed(err, conn);
    }
    conn.serve(output, failed);
  };
  // One for the server, given the connection: no closure per connection. rxwire's own errors (a
  // timeout, a bad frame) end the connection after the replies already made; a handler's error or
  // the socket's destroys it.
  const failed = (err: unknown, conn: Connection) => {
    hosting.failed(conn, err);
    if (err instanceof RxwireError) conn.end();
    else conn.destroy();
  };

  const gate = opts.proxyProtocol ? new ProxyHeaderGate(opts.proxyProtocol, opts.path !== undefined, remote, admission, events) : undefined;
  if (!gate) {
    server.on(tlsServer ? 'secureConnection' : 'connection', (socket: net.Socket) => accept(socket, undefined));
  } else if (!tlsServer) {
    server.on('connection', (socket: net.Socket) => gate.read(socket, (proxied) => accept(socket, proxied)));
  } else {
    // The TLS socket is found again by the TCP socket under it, which Node keeps as `_parent`.
    const proxiedBySocket = new WeakMap<net.Socket, ProxiedAddresses>();
    server.on('connection', (raw: net.Socket) =>
      gate.read(raw, (proxied) => {
        if (proxied) proxiedBySocket.set(raw, proxied);
        tlsServer.emit('connection', raw);
      }),
    );
    tlsServer.on('secureConnection', (socket: tls.TLSSocket & { _parent?: net.Socket }) => accept(socket, socket._parent && proxiedBySocket.get(socket._parent)));
  }

  if (opts.path !== undefined) await removeStaleSocket(opts.path);
  // Node's listen() takes a `port` key, even an undefined one, as "TCP on any port".
  const where = opts.path !== undefined ? { path: opts.path } : { host: opts.host, port: opts.port ?? 0 };
  await untilListening(server, (listening) => (sharedSocket ? server.listen(sharedSocket, opts.backlog, listening) : server.listen({ ...where, backlog: opts.backlog }, listening)));
  // After listening, a server error (EMFILE on accept, say) is told; the server goes on.
  server.on('error', (err) => hosting.serverError(err));

  const bound = server.address();
  const address = typeof bound === 'string' || bound === null ? `unix:${opts.path}` : formatHost(bound.address, bound.port);
  if (typeof bound !== 'object' || bound === null || !WILDCARDS.has(bound.address)) ownAddress = address;
  return hosting.serving<Server>(
    {
      transport,
      address,
      port: typeof bound === 'object' && bound !== null ? bound.port : undefined,
      get connections() {
        return hosting.open.size;
      },
      traffic: () => hosting.traffic(),
    },
    signal,
    (done) => {
      server.close(done);
      // Handshakes and PROXY headers in progress would only delay the close: they have no reply to finish.
      destroyHandshakes();
      gate?.destroyPending();
    },
    (conn) => conn.destroy(),
  );
}

/**
 * Bounds TLS handshakes and tells of every failed one (a `refused` `tls-handshake`): a handshake that fails or times
 * out is destroyed. Over TCP, at most `maxHandshakes` run at once (the oldest gives way to a new
 * one, so silent peers cannot lock real clients out), and on close those still running are
 * destroyed. When a TCP client hung up first, the TLS socket has lost its peer's address by the
 * time Node reports it: such a failure is told from the TCP socket under it, which keeps it.
 * Returns what destroys the handshakes in progress.
 */
function guardHandshakes(
  server: tls.Server,
  overTcp: boolean,
  remote: PeerName,
  events: EventStream,
  maxHandshakes = DEFAULTS.maxPendingHandshakes,
): () => void {
  // TCP sockets still in their handshake, by peer address (unique per TCP connection).
  const handshaking = new Map<string, net.Socket>();
  // TCP peers whose handshake is done or whose failure is told, until their TCP socket closes.
  const settled = new Set<string>();
  server.on('tlsClientError', (err: Error & { reason?: string }, socket: tls.TLSSocket & { _parent?: net.Socket }) => {
    // Read before destroy(), which forgets the address: a timed-out handshake still has one.
    const known = socket.remoteAddress !== undefined;
    // A client certificate the CA did not sign: Node destroys the socket without a word, and its
    // close is reported as a hang-up. The TCP socket under it still has the peer's address.
    const refused = socket.authorizationError;
    const peer = remote(known || !socket._parent ? socket : socket._parent);
    socket.destroy();
    // Without its address, the TLS socket's failure is told when the TCP socket under it closes.
    if (overTcp && !known && !refused) return;
    if (overTcp) settled.add(peer);
    handshakeFailed(events, peer, refused ? `client certificate not trusted (${refused})` : (err.reason ?? err.message.split('\n')[0]));
  });
  if (!overTcp) return () => {};
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    settled.add(remote(socket));
    handshaking.delete(remote(socket));
  });
  server.on('connection', (raw: net.Socket) => {
    const peer = remote(raw);
    if (handshaking.size >= maxHandshakes) handshaking.values().next().value?.destroy();
    handshaking.set(peer, raw);
    raw.once('close', () => {
      if (handshaking.get(peer) === raw) handshaking.delete(peer);
      // After the TLS socket's own close, which may report why the server ended it.
      setImmediate(() => {
        if (!settled.delete(peer)) handshakeFailed(events, peer, 'the client hung up');
      });
    });
  });
  return () => handshaking.forEach((raw) => raw.destroy());
}

function handshakeFailed(events: EventStream, remote: string, detail: string | undefined): void {
  if (events.connectionsObserved) events.emit({ type: 'refused', remote, reason: 'tls-handshake', ...(detail === undefined ? {} : { detail }) });
}

/** A TLS server, or a one-line InvalidOption when its certificate and key make none (`key values mismatch`). */
function createTlsServer(options: tls.TlsOptions): tls.Server {
  try {
    return tls.createServer(options);
  } catch (err) {
    throw new InvalidOption(`serve: tls: ${(err as { reason?: string }).reason ?? (err as Error).message}`);
  }
}

/**
 * A socket file left by a dead server is removed. It is stale only when connecting to it is
 * refused: a live server that is busy (a full backlog) or slow to accept is still alive.
 */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) throw new Error(`listen EADDRINUSE: ${path} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path });
    const settle = (isAlive: boolean) => {
      clearTimeout(slow);
      probe.destroy();
      resolve(isAlive);
    };
    const slow = setTimeout(() => settle(true), UNIX_PROBE_MS);
    probe.once('connect', () => settle(true));
    probe.once('error', (err: NodeJS.ErrnoException) => settle(err.code !== 'ECONNREFUSED'));
  });
  if (alive) throw new Error(`listen EADDRINUSE: a server is already listening on ${path}`);
  unlinkSync(path);
}
