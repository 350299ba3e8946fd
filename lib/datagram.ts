import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv4, isIPv6 } from 'node:net';
import * as t from 'io-ts';
import { defer, from, merge, Observable, Subscriber, Subscription, switchMap } from 'rxjs';
import { DatagramServeOptions, decodeOrThrow, NonEmptyString, Port, wholeNumber } from './config';
import { ConnectionInfo, formatHost, Handler, nextConnectionId } from './connection';
import { DatagramTooLarge, IdleTimeout, NoReply } from './errors';
import { subscribeWithFlow, TransportFlow } from './flow';
import { DEFAULT_GRACE_MS, DEFAULT_HIGH_WATER_MARK, describeFailure, handlerOutput, logger, Server } from './server';

/** The largest UDP payload over IPv4: 65,535 less the IP and UDP headers. */
const MAX_UDP_PAYLOAD = 65_507;
const DEFAULT_IDLE_MS = 30_000;
const DEFAULT_MAX_PEERS = 10_000;
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * One UDP peer as a connection: what it sends, one Buffer per datagram (`input`), and a sink that
 * sends each Buffer as one datagram (`send`). The same shape as a stream Connection, so handlers
 * and operators run on it unchanged.
 *
 * UDP cannot make a peer wait, so holding reads cannot pause it: a datagram that arrives while
 * reads are held, or before the input has a subscriber, is dropped and counted (`droppedUnread`),
 * as a full socket buffer would drop it. Queueing it instead would let a fast peer grow memory
 * without bound.
 */
export class DatagramConnection extends TransportFlow {
  readonly input: Observable<Buffer>;
  readonly openedAt = Date.now();
  readonly outputHighWaterMark = DEFAULT_HIGH_WATER_MARK;
  private readonly counts = { datagramsRead: 0, bytesRead: 0, datagramsWritten: 0, bytesWritten: 0, droppedUnread: 0, pendingOutput: 0 };
  private reader: Subscriber<Buffer> | undefined;
  private inputEnd: { error?: Error } | undefined;

  constructor(
    readonly info: ConnectionInfo,
    /** Sends one datagram to the peer; `sent` is called once the socket has sent it, or failed to. */
    private readonly transmit: (datagram: Buffer, sent: (err: Error | null) => void) => void,
    readonly maxDatagram = MAX_UDP_PAYLOAD,
  ) {
    super();
    this.input = new Observable<Buffer>((subscriber) => {
      if (this.reader) return subscriber.error(new Error(`connection #${info.id}: input already has a subscriber`));
      if (this.inputEnd) return this.inputEnd.error ? subscriber.error(this.inputEnd.error) : subscriber.complete();
      this.reader = subscriber;
      return () => {
        if (this.reader === subscriber) this.reader = undefined;
      };
    });
  }

  get datagramsRead(): number {
    return this.counts.datagramsRead;
  }

  get bytesRead(): number {
    return this.counts.bytesRead;
  }

  get datagramsWritten(): number {
    return this.counts.datagramsWritten;
  }

  get bytesWritten(): number {
    return this.counts.bytesWritten;
  }

  /** Datagrams that arrived while nobody read them: reads held, or no subscriber yet. */
  get droppedUnread(): number {
    return this.counts.droppedUnread;
  }

  /** Bytes handed to the socket for sending and not yet sent. */
  get pendingOutput(): number {
    return this.counts.pendingOutput;
  }

  /** For the transport: one datagram from the peer. */
  deliver(datagram: Buffer): void {
    this.counts.datagramsRead++;
    this.counts.bytesRead += datagram.length;
    this.notify('read');
    if (this.reader && !this.holdingReads) this.reader.next(datagram);
    else this.counts.droppedUnread++;
  }

  /** For the transport: no more datagrams will come (the peer expired, the socket closed), or `error`. */
  endInput(error?: Error): void {
    if (this.inputEnd) return;
    this.inputEnd = { error };
    const reader = this.reader;
    this.reader = undefined;
    if (error) reader?.error(error);
    else reader?.complete();
  }

  get inputEnded(): boolean {
    return this.inputEnd !== undefined;
  }

  /**
   * Sends every Buffer of `output` as one datagram, in order. Completes once the output has
   * completed and every datagram has been sent; errors with `DatagramTooLarge` (sending nothing
   * more) for a Buffer over `maxDatagram`, or with the socket's error. The pipeline is subscribed
   * with this connection as its Flow.
   */
  send(output: Observable<Buffer>): Observable<never> {
    return new Observable<never>((subscriber) => {
      let unsent = 0;
      let outputDone = false;
      const finishIfDone = () => outputDone && unsent === 0 && subscriber.complete();
      return subscribeWithFlow(this, output, {
        next: (datagram) => {
          // A synchronous source (`of(...)`) goes on emitting after an error here, until teardown.
          if (subscriber.closed) return;
          if (datagram.length > this.maxDatagram) return subscriber.error(new DatagramTooLarge(datagram.length, this.maxDatagram));
          unsent++;
          this.counts.pendingOutput += datagram.length;
          const sent = (err: Error | null) => {
            unsent--;
            this.counts.pendingOutput -= datagram.length;
            if (err) return subscriber.error(err);
            this.counts.datagramsWritten++;
            this.counts.bytesWritten += datagram.length;
            this.notify('flushed');
            finishIfDone();
          };
          try {
            this.transmit(datagram, sent);
          } catch (err) {
            // A closed socket throws instead of calling back.
            return sent(err as Error);
          }
          this.notify('queued');
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          outputDone = true;
          finishIfDone();
        },
      });
    });
  }

  /** The peer's datagrams, while `output` is sent: the client's side of `send`. */
  exchange(output: Observable<Buffer>): Observable<Buffer> {
    return merge(this.input, this.send(output));
  }
}

export interface DatagramServer extends Server {
  /** Datagrams from new peers dropped because `maxPeers` peers had sessions. */
  readonly droppedFromNewPeers: number;
  /** Datagrams from peers with a session dropped because their handler was not reading. */
  readonly droppedUnread: number;
}

interface Session {
  readonly conn: DatagramConnection;
  /** Ends the session at once: its output is unsubscribed. */
  end(): void;
}

/**
 * Serves UDP: each remote peer (address and port) becomes a session, a DatagramConnection run
 * through `handler` as a stream connection would be. A session ends when its handler's output
 * completes or errors (a handler error, `DatagramTooLarge`), which touches no other peer; a later
 * datagram from the same peer starts a new one. A peer silent for `idleMs` is expired: its input
 * completes, and its output gets another `idleMs` to finish.
 *
 * ```ts
 * const server = await serveDatagrams({ port: 50007 }, pipe(closeOnEmptyRead(), upper()));
 * ```
 */
export async function serveDatagrams(options: DatagramServeOptions, handler: Handler): Promise<DatagramServer> {
  const opts = decodeOrThrow(DatagramServeOptions, options, 'serveDatagrams: ') as DatagramServeOptions;
  const log = logger(opts.log);
  const idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
  const maxPeers = opts.maxPeers ?? DEFAULT_MAX_PEERS;
  const socket = dgram.createSocket(opts.type ?? (await socketTypeFor(opts.host)));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: opts.host, port: opts.port ?? 0 }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  // Errors after binding are the OS's word on one datagram; the server goes on.
  socket.on('error', (err) => log(`server: ${err.message}`));
  const bound = socket.address();
  const address = formatHost(bound.address, bound.port);

  // Every session until it ends; `byPeer` only those still reading, which the peer's datagrams go to.
  const sessions = new Set<Session>();
  const byPeer = new Map<string, Session>();
  let droppedFromNewPeers = 0;
  let droppedUnreadByEnded = 0;
  let lastFullLog = 0;
  let closing: Promise<void> | undefined;
  // Set by close(), which stops reading at once: closes the socket once the last session has ended.
  let closeSocket: (() => void) | undefined;

  const open = (peer: dgram.RemoteInfo, key: string): Session => {
    const info: ConnectionInfo = { id: nextConnectionId(), transport: 'udp', local: address, remote: formatHost(peer.address, peer.port) };
    const conn = new DatagramConnection(info, (datagram, sent) => socket.send(datagram, peer.port, peer.address, sent), opts.maxDatagram);
    log(`#${info.id} open ${info.remote}`);
    let output: Subscription | undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearTimeout(expiry);
      stopWatching();
      output?.unsubscribe();
      conn.endInput();
      if (byPeer.get(key) === session) byPeer.delete(key);
      sessions.delete(session);
      droppedUnreadByEnded += conn.droppedUnread;
      const dropped = conn.droppedUnread > 0 ? `, ${conn.droppedUnread} dropped unread` : '';
      log(
        `#${info.id} closed ${info.remote}: ${conn.datagramsRead} datagrams (${conn.bytesRead} bytes) in${dropped}, ` +
          `${conn.datagramsWritten} datagrams (${conn.bytesWritten} bytes) out, ${Date.now() - conn.openedAt} ms`,
      );
      if (sessions.size === 0) closeSocket?.();
    };
    const session: Session = { conn, end };
    // Silent for idleMs: the input completes and the peer's next datagram starts a new session;
    // idle another idleMs (an output that never completes): the session ends.
    const expiry = setTimeout(function expire() {
      if (conn.inputEnded) return end();
      log(`#${info.id} expired: silent for ${idleMs} ms`);
      if (byPeer.get(key) === session) byPeer.delete(key);
      conn.endInput();
      expiry.refresh();
    }, idleMs);
    const stopWatching = conn.onActivity((event) => event === 'read' && expiry.refresh());
    sessions.add(session);
    byPeer.set(key, session);
    const failed = (err: unknown) => {
      const expected = err instanceof DatagramTooLarge || err instanceof IdleTimeout;
      log(`#${info.id} ${expected ? `${err.message}, closing` : describeFailure(err)}`);
      end();
    };
    try {
      output = conn.send(handlerOutput(handler, conn.input, info)).subscribe({ error: failed, complete: end });
    } catch (err) {
      failed(err);
    }
    return session;
  };

  socket.on('message', (datagram, peer) => {
    if (closeSocket) return;
    const key = `${peer.address} ${peer.port}`;
    let session = byPeer.get(key);
    if (!session) {
      if (sessions.size >= maxPeers) {
        droppedFromNewPeers++;
        // One line a second at most: a flood of new peers must not flood the log too.
        if (Date.now() - lastFullLog >= 1000) {
          lastFullLog = Date.now();
          log(`refused ${formatHost(peer.address, peer.port)}: ${maxPeers} peers open; datagrams from new peers dropped so far: ${droppedFromNewPeers}`);
        }
        return;
      }
      session = open(peer, key);
    }
    session.conn.deliver(datagram);
  });

  return {
    transport: 'udp',
    address,
    port: bound.port,
    get connections() {
      return sessions.size;
    },
    get droppedFromNewPeers() {
      return droppedFromNewPeers;
    },
    get droppedUnread() {
      let dropped = droppedUnreadByEnded;
      for (const session of sessions) dropped += session.conn.droppedUnread;
      return dropped;
    },
    close(graceMs = opts.graceMs ?? DEFAULT_GRACE_MS) {
      closing ??= new Promise<void>((resolve) => {
        // Stop reading at once, as if every peer had half-closed; give outputs graceMs to finish.
        const timer = setTimeout(() => [...sessions].forEach((session) => session.end()), graceMs);
        closeSocket = () => {
          clearTimeout(timer);
          socket.close(() => resolve());
        };
        byPeer.clear();
        if (sessions.size === 0) return closeSocket();
        // The last session to end closes the socket.
        for (const session of [...sessions]) session.conn.endInput();
      });
      return closing;
    },
  };
}

/** udp4 for an IPv4 address or a name that resolves to one; udp6 for IPv6 and for no host (`::`, dual-stack). */
async function socketTypeFor(host: string | undefined): Promise<dgram.SocketType> {
  if (host === undefined || isIPv6(host)) return 'udp6';
  if (isIPv4(host)) return 'udp4';
  return (await lookup(host)).family === 6 ? 'udp6' : 'udp4';
}

export const ConnectDatagramOptions = t.partial({
  host: NonEmptyString,
  port: Port,
  /** Error with `NoReply` once nothing has been received or sent for this long. Default 10 s. */
  timeoutMs: wholeNumber(1),
  /** Longest datagram `send` may send. Default 65,507. */
  maxDatagram: wholeNumber(1, 65535),
});
export type ConnectDatagramOptions = t.TypeOf<typeof ConnectDatagramOptions>;

/**
 * A UDP socket connected to one server, emitted once as a DatagramConnection: `exchange(output)`
 * sends each Buffer as one datagram, and emits each reply datagram. UDP has no end-of-stream, so
 * the input never completes by itself: take what you expect (`first()`), and the input errors with
 * `NoReply` (`no reply from udp 127.0.0.1:50007 within 10000 ms`) once nothing has moved either
 * way for `timeoutMs`. Unsubscribing closes the socket.
 *
 * ```ts
 * connectDatagram({ port: 50007 }).pipe(mergeMap((conn) => conn.exchange(of(Buffer.from('hi')))), first())
 * ```
 */
export function connectDatagram(options: ConnectDatagramOptions): Observable<DatagramConnection> {
  const opts = decodeOrThrow(ConnectDatagramOptions, options, 'connectDatagram: ');
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? 50007;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const target = formatHost(host, port);
  return defer(() => from(socketTypeFor(host))).pipe(
    switchMap(
      (type) =>
        new Observable<DatagramConnection>((subscriber) => {
          const socket = dgram.createSocket(type);
          let conn: DatagramConnection | undefined;
          const failed = (err: Error) => (conn ? conn.endInput(err) : subscriber.error(err));
          const silence = setTimeout(() => failed(new NoReply(target, timeoutMs)), timeoutMs);
          socket.on('error', (err: NodeJS.ErrnoException) => {
            // A port-unreachable answer is a hint that may as well have been lost: UDP promises
            // nothing, so whether a reply comes is for the timeout to tell.
            if (err.code !== 'ECONNREFUSED') failed(err);
          });
          socket.connect(port, host, () => {
            const local = socket.address();
            const remote = socket.remoteAddress();
            const info = { id: nextConnectionId(), transport: 'udp' as const, local: formatHost(local.address, local.port), remote: formatHost(remote.address, remote.port) };
            const connected = new DatagramConnection(info, (datagram, sent) => socket.send(datagram, sent), opts.maxDatagram);
            connected.onActivity(() => silence.refresh());
            socket.on('message', (datagram) => connected.deliver(datagram));
            conn = connected;
            subscriber.next(connected);
          });
          return () => {
            clearTimeout(silence);
            conn?.endInput();
            socket.close();
          };
        }),
    ),
  );
}
