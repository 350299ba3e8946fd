import * as dgram from 'node:dgram';
import { DEFAULTS } from '../../core/defaults';
import { ConnectionInfo, Handler, Transport } from '../../core/handler';
import { decodeOptions } from '../../core/options';
import { formatHost, nextConnectionId } from '../identity';
import { checkHandler, DatagramCounts, handlerOutput, Hosting, Server, untilListening } from '../hosting';
import { logSink } from '../log/sink';
import { AbortOptions, liveSignalOf } from '../lifetime';
import { DatagramConnection } from './connection';
import { DatagramServeOptions } from './options';
import { socketTypeFor } from './socketType';

export interface DatagramServer extends Server {
  /** Datagrams from new peers dropped because `maxPeers` peers had sessions. */
  readonly droppedFromNewPeers: number;
  /** Datagrams from peers with a session dropped because their handler was not reading. */
  readonly droppedUnread: number;
}

/**
 * Serves UDP: each remote peer (address and port) becomes a session, a DatagramConnection run
 * through `handler` as a stream connection would be. A session ends when its handler's output
 * completes or errors (a handler error, `DatagramTooLarge`), which touches no other peer; a later
 * datagram from the same peer starts a new one. A peer silent for `idleMs` is expired: its input
 * completes, and its output gets another `idleMs` to finish.
 * Aborting `signal` closes it as `close()` does.
 *
 * ```ts
 * const server = await serveDatagrams({ port: 50007 }, pipe(closeOnEmptyRead(), upper()));
 * ```
 */
export function serveDatagrams(options: DatagramServeOptions, handler: Handler, lifetime?: AbortOptions): Promise<DatagramServer> {
  return hostDatagrams(options, handler, lifetime, 'udp');
}

const datagramCounts = (conn: DatagramConnection): DatagramCounts => ({ datagramsIn: conn.datagramsRead, datagramsOut: conn.datagramsWritten, droppedUnread: conn.droppedUnread });

/** `serveDatagrams()`, its events telling of `transport`: rdm serves its sessions so. */
export async function hostDatagrams(options: DatagramServeOptions, handler: Handler, lifetime: AbortOptions | undefined, transport: Transport): Promise<DatagramServer> {
  const opts = decodeOptions('serveDatagrams', DatagramServeOptions, options);
  checkHandler('serveDatagrams', handler);
  const signal = liveSignalOf('serveDatagrams', lifetime);
  const hosting = new Hosting<DatagramConnection>(transport, logSink(transport === 'udp' ? 'serveDatagrams' : 'serveReliableDatagrams', opts), opts.graceMs, datagramCounts);
  const events = hosting.events;
  const idleMs = opts.idleMs ?? DEFAULTS.datagramIdleMs;
  const maxPeers = opts.maxPeers ?? DEFAULTS.maxPeers;
  const socket = dgram.createSocket(opts.type ?? (await socketTypeFor(opts.host)));
  await untilListening(socket, (listening) => socket.bind({ address: opts.host, port: opts.port ?? 0 }, listening));
  // Errors after binding are the OS's word on one datagram; the server goes on.
  socket.on('error', (err) => hosting.serverError(err));
  const bound = socket.address();
  const address = formatHost(bound.address, bound.port);

  // The sessions still reading, which their peers' datagrams go to; every session until it ends
  // is one of `hosting.open`, and carries what ends it.
  const byPeer = new Map<string, DatagramConnection>();
  let droppedFromNewPeers = 0;
  let droppedUnreadByEnded = 0;
  // Set by close(), which stops reading at once: closes the socket once the last session has ended.
  let closeSocket: (() => void) | undefined;

  const open = (peer: dgram.RemoteInfo, key: string): DatagramConnection => {
    const info: ConnectionInfo = { id: nextConnectionId(), transport: 'udp', local: address, remote: formatHost(peer.address, peer.port) };
    const conn = new DatagramConnection(info, (datagram, sent) => socket.send(datagram, peer.port, peer.address, sent), opts.maxDatagram);
    hosting.opened(conn);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      conn.endSession = undefined;
      clearTimeout(expiry);
      stopWatching();
      output?.unsubscribe();
      conn.end();
      if (byPeer.get(key) === conn) byPeer.delete(key);
      droppedUnreadByEnded += conn.droppedUnread;
      hosting.closed(conn);
      if (hosting.open.size === 0) closeSocket?.();
    };
    // Silent for idleMs: the input completes and the peer's next datagram starts a new session;
    // idle another idleMs (an output that never completes): the session ends.
    const expiry = setTimeout(function expire() {
      if (conn.inputEnded) return end();
      hosting.expired(conn, idleMs);
      if (byPeer.get(key) === conn) byPeer.delete(key);
      conn.endInput();
      expiry.refresh();
    }, idleMs);
    const stopWatching = conn.onActivity((event) => event === 'read' && expiry.refresh());
    conn.endSession = end;
    byPeer.set(key, conn);
    const failed = (err: unknown) => {
      hosting.failed(conn, err);
      end();
    };
    let output: { unsubscribe(): void } | undefined;
    try {
      output = conn.send(handlerOutput(handler, conn.input, info)).subscribe({ error: failed, complete: end });
    } catch (err) {
      failed(err);
    }
    return conn;
  };

  // The server's last word on what it could not deliver, if anything: per session events say it piecemeal.
  const tellDropTotals = () => {
    if ((droppedFromNewPeers > 0 || droppedUnreadByEnded > 0) && events.observed) {
      events.emit({ type: 'udp-dropped', fromNewPeers: droppedFromNewPeers, unread: droppedUnreadByEnded, maxPeers });
    }
  };

  socket.on('message', (datagram, peer) => {
    if (closeSocket) return;
    const key = `${peer.address} ${peer.port}`;
    let conn = byPeer.get(key);
    if (!conn) {
      if (hosting.open.size >= maxPeers) {
        droppedFromNewPeers++;
        if (events.connectionsObserved) events.emit({ type: 'refused', remote: formatHost(peer.address, peer.port), reason: 'max-peers', limit: maxPeers });
        return;
      }
      conn = open(peer, key);
    }
    conn.deliver(datagram);
  });

  return hosting.serving<DatagramServer>(
    {
      transport: 'udp',
      address,
      port: bound.port,
      get connections() {
        return hosting.open.size;
      },
      traffic: () => hosting.traffic(),
      get droppedFromNewPeers() {
        return droppedFromNewPeers;
      },
      get droppedUnread() {
        let dropped = droppedUnreadByEnded;
        for (const conn of hosting.open) dropped += conn.droppedUnread;
        return dropped;
      },
    },
    signal,
    (done) => {
      // Stop reading at once, as if every peer had half-closed; the last session to end closes the socket.
      closeSocket = () =>
        socket.close(() => {
          tellDropTotals();
          done();
        });
      byPeer.clear();
      if (hosting.open.size === 0) return closeSocket();
      for (const conn of [...hosting.open]) conn.endInput();
    },
    (conn) => conn.endSession?.(),
  );
}
