import { isIPv4, isIPv6, Socket } from 'node:net';
import { merge, Observable, Subscriber } from 'rxjs';
import { subscribeWithFlow, TransportFlow } from './flow';

export type Transport = 'tcp' | 'unix' | 'tls' | 'udp';

/** What a handler may know about its connection: never the socket itself. */
export interface ConnectionInfo {
  /** Unique within the process; the id that log lines carry. */
  readonly id: number;
  readonly transport: Transport;
  /** `127.0.0.1:50007`, `[::1]:50007`, `unix:/tmp/rxwire.sock` */
  readonly local: string;
  readonly remote: string;
}

/**
 * Turns one connection's incoming chunks into its outgoing chunks. Every RxJS
 * `OperatorFunction<Buffer, Buffer>`, and every `pipe(...)` of them, is a Handler.
 */
export type Handler = (input: Observable<Buffer>, conn: ConnectionInfo) => Observable<Buffer>;

/** `127.0.0.1:41234`, `[::1]:41234`; an IPv4 peer on a dual-stack socket shows as plain IPv4. */
export function formatHost(host: string | undefined, port: number | undefined): string {
  const plain = host?.startsWith('::ffff:') && isIPv4(host.slice(7)) ? host.slice(7) : (host ?? '?');
  return isIPv6(plain) ? `[${plain}]:${port}` : `${plain}:${port}`;
}

// After we have sent our FIN, a peer that neither reads nor closes gets this long to close.
const LINGER_MS = 2000;

let lastId = 0;
export function nextConnectionId(): number {
  return ++lastId;
}

/**
 * One stream socket as an Observable of what the peer sends (`input`) and a sink for what we send
 * (`send`). The input pauses the socket while nobody subscribes or a pipeline operator holds reads.
 */
export class Connection extends TransportFlow {
  readonly input: Observable<Buffer>;
  readonly openedAt = Date.now();
  // Kept lean: a server holds one per open connection. One listener per socket event hands it to
  // whoever is subscribed now.
  private reader: Subscriber<Buffer> | undefined;
  private sender: Subscriber<never> | undefined;
  /** Output written while a read is being handled, sent when it has been; one array, reused. */
  private readonly answer: Buffer[] = [];
  private answering = false;
  private failure: Error | undefined;

  constructor(
    readonly socket: Socket,
    readonly info: ConnectionInfo,
    /** What `backpressure()` holds reads at by default; a TLS socket does not take the server's own. */
    readonly outputHighWaterMark = socket.writableHighWaterMark,
  ) {
    super();
    socket.pause();
    // An 'error' with no listener would crash the process; the first one is kept for whoever
    // subscribes later.
    socket.on('error', (err) => {
      this.failure ??= err;
      this.reader?.error(err);
      this.sender?.error(err);
    });
    socket.on('end', () => this.reader?.complete());
    socket.on('close', () => {
      this.reader?.complete();
      if (this.failure) this.sender?.error(this.failure);
      else this.sender?.complete();
    });
    this.input = new Observable<Buffer>((subscriber) => {
      if (this.reader) {
        subscriber.error(new Error(`connection #${info.id}: input already has a subscriber`));
        return;
      }
      if (socket.readableEnded || socket.destroyed) {
        if (this.failure) subscriber.error(this.failure);
        else subscriber.complete();
        return;
      }
      this.reader = subscriber;
      socket.on('data', this.read);
      if (!this.holdingReads) socket.resume();
      return () => {
        this.reader = undefined;
        socket.off('data', this.read);
        if (!socket.destroyed) socket.pause();
      };
    });
  }

  get bytesRead(): number {
    return this.socket.bytesRead;
  }

  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  get pendingOutput(): number {
    return this.socket.writableLength;
  }

  protected override readsHeld(): void {
    this.socket.pause();
  }

  protected override readsFree(): void {
    if (this.reader) this.socket.resume();
  }

  /**
   * Writes `output` in order and, once it completes, ends our side after flushing. Completes when
   * the output is flushed (or the socket closes), errors with the output's or the socket's error.
   * The pipeline is subscribed with this connection as its Flow.
   */
  send(output: Observable<Buffer>): Observable<never> {
    return new Observable<never>((subscriber) => {
      this.sender = subscriber;
      const subscription = subscribeWithFlow(this, output, {
        next: (chunk) => this.write(chunk),
        error: (err) => subscriber.error(err),
        complete: () => this.end(() => subscriber.complete()),
      });
      return () => {
        if (this.sender === subscriber) this.sender = undefined;
        subscription.unsubscribe();
      };
    });
  }

  /** What the peer sends, while `output` is sent: the client's side of `send`. */
  exchange(output: Observable<Buffer>): Observable<Buffer> {
    return merge(this.input, this.send(output));
  }

  /** Ends our side once pending output is flushed; `flushed` is called then. */
  end(flushed?: () => void): void {
    const socket = this.socket;
    if (socket.destroyed) return flushed?.();
    this.writeAnswer(); // the handler may complete while a read is being answered
    socket.end(flushed);
    if (!this.reader && !socket.readableEnded) {
      // Nobody reads any more: drop what the peer still sends so its FIN can arrive, and don't
      // wait for it forever.
      socket.on('data', () => {}).resume();
      const linger = setTimeout(() => socket.destroy(), LINGER_MS);
      socket.once('close', () => clearTimeout(linger));
    }
  }

  /** Closes both sides at once, dropping pending output. */
  destroy(): void {
    this.socket.destroy();
  }

  private readonly read = (chunk: Buffer) => {
    this.notify('read');
    // What the pipeline writes in answer to one read goes out as one write, not one per frame.
    this.answering = true;
    try {
      this.reader?.next(chunk);
    } finally {
      this.writeAnswer();
    }
  };

  private readonly flushed = () => this.notify('flushed');

  private write(chunk: Buffer): void {
    if (chunk.length === 0 || !this.socket.writable) return;
    if (this.answering) {
      this.answer.push(chunk);
      return;
    }
    this.socket.write(chunk, this.flushed);
    this.notify('queued');
  }

  private writeAnswer(): void {
    this.answering = false;
    const answer = this.answer;
    if (answer.length === 0) return;
    // Small frames are cheaper copied into one Buffer than queued one by one; a single one as is.
    const bytes = answer.length === 1 ? answer[0] : Buffer.concat(answer);
    answer.length = 0;
    if (!this.socket.writable) return;
    this.socket.write(bytes, this.flushed);
    this.notify('queued');
  }
}
