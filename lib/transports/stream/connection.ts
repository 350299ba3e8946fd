import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { Observable } from 'rxjs';
import { DEFAULTS } from '../../core/defaults';
import { BufferBudgetExceeded } from '../../core/errors';
import { subscribeUnder } from '../../core/flow';
import { ConnectionInfo } from '../../core/handler';
import { BufferBudget, TransportConnection } from '../transportConnection';
import { IdleWatch } from './idleWatch';
import { lingerDeadline } from './lingerDeadline';
import { ReadAnswer } from './readAnswer';
import { Serving } from './serving';

/** What a connection is given besides its socket; every field has a default. */
export interface ConnectionLimits {
  /** What `backpressure()` holds reads at by default; a TLS socket does not take the server's own. */
  outputHighWaterMark?: number;
  /** After our side has ended and nobody reads, how long the peer may go without progress before it is destroyed. */
  lingerMs?: number;
  /** The server-wide budget for bytes held in decoders and pending output. */
  budget?: BufferBudget;
  /** The server's idle limit: `serve` fails with IdleTimeout once no bytes have moved for its `ms`. */
  idle?: IdleWatch;
  /** The server's: told of each of its connections once it has closed (one function, no closure per connection). */
  closed?: (conn: Connection) => void;
}

/**
 * One stream socket (TCP, Unix, TLS) as an Observable of what the peer sends (`input`) and a sink
 * for what we send (`send`). The input pauses the socket while nobody subscribes or a pipeline
 * operator holds reads.
 */
export class Connection extends TransportConnection {
  /** The pipeline being sent, or the last one: it hears that the socket failed or closed meanwhile. */
  private serving: Serving<Connection> | undefined;
  /** Output written while a read is being handled, sent as one write when it has been. */
  private readonly answer = new ReadAnswer();
  private failure: Error | undefined;
  /** Our side has ended: what the peer still sends is read and dropped, within the linger deadline. */
  private ending = false;
  private lingering = false;
  private readonly tls: boolean;
  /** Listeners are being told of a write flushed at once, and another was meanwhile. */
  private telling = false;
  private flushedMeanwhile = false;
  private flushedCallback: (() => void) | undefined;

  constructor(
    readonly socket: Socket,
    info: ConnectionInfo,
    // The server's, shared by its connections: read where needed rather than copied into each.
    private readonly limits: ConnectionLimits = {},
  ) {
    super(info, limits.budget);
    this.tls = socket instanceof TLSSocket;
    socket.pause();
    // One listener per socket event, the same functions for every connection (a server holds one
    // connection per open socket), each finding its connection on the socket. An 'error' with no
    // listener would crash the process; the first one is kept for whoever subscribes later.
    (socket as OwnedSocket)[CONNECTION] = this;
    socket.on('data', Connection.onData);
    socket.on('error', Connection.onError);
    socket.on('end', Connection.onEnd);
    socket.on('close', Connection.onClose);
  }

  private static onData(this: OwnedSocket, chunk: Buffer): void {
    this[CONNECTION].read(chunk);
  }

  private static onError(this: OwnedSocket, err: Error): void {
    const conn = this[CONNECTION];
    conn.failure ??= err;
    conn.endInput(err);
    conn.serving?.fail(err);
  }

  private static onEnd(this: OwnedSocket): void {
    this[CONNECTION].endInput();
  }

  private static onClose(this: OwnedSocket): void {
    const conn = this[CONNECTION];
    conn.endInput(conn.failure);
    if (conn.failure) conn.serving?.fail(conn.failure);
    else conn.serving?.finish();
    conn.closed();
  }

  protected tellServerClosed(): void {
    this.limits.closed?.(this);
  }

  get outputHighWaterMark(): number {
    return this.limits.outputHighWaterMark ?? this.socket.writableHighWaterMark;
  }

  get joinsWrites(): boolean {
    return true;
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

  protected startReading(): void {
    this.socket.resume();
  }

  protected stopReading(): void {
    if (this.socket.destroyed) return;
    if (!this.ending) return void this.socket.pause();
    // Nobody will read again: drop what the peer still sends, so its FIN can arrive.
    this.socket.resume();
    if (!this.reader) this.linger();
  }

  /**
   * Writes `output` in order and, once it completes, ends our side after flushing. Completes when
   * the output is flushed (or the socket closes), errors with the output's or the socket's error.
   * The pipeline is subscribed with this connection as its Flow.
   */
  send(output: Observable<Buffer>): Observable<never> {
    return new Observable<never>((subscriber) => this.serve(output, (err) => subscriber.error(err), () => subscriber.complete()));
  }

  /**
   * `send` without an Observable and a subscriber between: the server's way, once per connection.
   * `failed` hears the output's or the socket's error (and this connection), or `done` that the
   * output is complete and flushed (or the socket closed), once; a later socket error is nobody's
   * business. Returns what stops it.
   */
  serve(output: Observable<Buffer>, failed: (err: unknown, conn: Connection) => void, done?: () => void): () => void {
    const serving = new Serving<Connection>(this, failed, done, this.limits.idle);
    this.serving = serving;
    // A pipeline that fails while being subscribed is stopped as it subscribes: the closed
    // Serving unsubscribes whatever is added to it.
    subscribeUnder(this, output, serving);
    return () => {
      // Stopped by whoever unsubscribes: a teardown's throw is theirs, as RxJS's unsubscribe gives it.
      const thrown = serving.settle();
      if (thrown !== undefined) throw thrown;
    };
  }

  /** @internal For Serving: the pipeline failed; what it answered to the read being handled goes out first. */
  sendHeldAnswer(): void {
    this.answer.end(this.sendAnswer, this);
  }

  /** Ends our side once pending output is flushed; `flushed` is called then. Once nobody reads, the linger deadline holds. */
  end(flushed?: () => void): void {
    const socket = this.socket;
    if (socket.destroyed) return flushed?.();
    this.answer.end(this.sendAnswer, this); // the handler may complete while a read is being answered
    this.ending = true;
    socket.end(flushed);
    if (!this.reader) this.stopReading();
  }

  /** Closes both sides at once, dropping pending output. */
  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Closes gracefully: ends our side once pending output is flushed, gives the peer `graceMs`
   * (default 5 s) to end its own, then destroys the socket. Resolves once it has closed.
   */
  close(graceMs: number = DEFAULTS.graceMs): Promise<void> {
    const socket = this.socket;
    if (socket.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => socket.destroy(), graceMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.end();
    });
  }

  /** `await using conn = …` closes it at the end of the block, as `close()` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private linger(): void {
    const socket = this.socket;
    // A peer that has ended and left none of our output queued can hold nothing: the socket
    // closes as soon as our FIN is handed to the kernel, with no timer per connection. Not over
    // TLS, whose end first writes a close_notify record, which a peer that stopped reading holds up.
    if (this.lingering || (this.inputEnded && socket.writableLength === 0 && !this.tls)) return;
    this.lingering = true;
    lingerDeadline(socket, this.limits.lingerMs ?? DEFAULTS.lingerMs);
  }

  private read(chunk: Buffer): void {
    this.serving?.touch();
    // What the pipeline writes in answer to one read goes out as one write, not one per frame.
    this.answer.begin();
    try {
      this.emitRead(chunk);
    } catch (err) {
      // Operators report errors downstream; only a faulty subscriber throws this far. Contain it.
      this.serving?.fail(err);
    } finally {
      this.answer.end(this.sendAnswer, this);
    }
  }

  private flushed(): void {
    this.serving?.touch();
    // A destroyed socket's writes are called back with what is left; its close gives it all back.
    if (!this.socket.destroyed) this.reserveOutput(this.socket.writableLength);
    this.notify('flushed');
  }

  /** @internal For Serving: one chunk the pipeline emitted. */
  writeOutput(chunk: Buffer): void {
    if (chunk.length === 0 || !this.socket.writable) return;
    this.serving?.touch();
    if (!this.answer.hold(chunk)) this.queue(chunk);
  }

  private sendAnswer(answer: readonly Buffer[]): void {
    const socket = this.socket;
    if (answer.length === 1) {
      if (socket.writable) this.queue(answer[0]!);
    } else if (answer.length <= MAX_GATHERED_PARTS) {
      // A few large parts go out together in one writev.
      socket.cork();
      for (const part of answer) if (socket.writable) this.queue(part);
      socket.uncork();
    } else if (socket.writable) {
      // Many small frames are cheaper copied into one Buffer than queued one by one.
      this.queue(Buffer.concat(answer));
    }
  }

  /**
   * Hands `bytes` to the socket, unless the output waiting would pass the server's budget: then
   * the pipeline fails and the socket is destroyed, since a peer this far behind is not reading.
   */
  private queue(bytes: Buffer): void {
    const pending = this.socket.writableLength + bytes.length;
    if (!this.reserveOutput(pending)) {
      this.serving?.fail(new BufferBudgetExceeded(pending));
      return this.destroy();
    }
    const socket = this.socket;
    // A write into an empty queue most often goes to the kernel at once, and a callback would
    // cost Node an object and a tick for each. So it gets none; should it stay queued (a full
    // send buffer), an empty write after it is called back once it is flushed. Not over TLS,
    // whose empty writes are records of their own.
    const callBack = this.tls || socket.writableLength > 0 || socket.writableCorked > 0;
    // The callback is made once, when first needed: most connections' writes never wait.
    socket.write(bytes, callBack ? (this.flushedCallback ??= () => this.flushed()) : undefined);
    // Before anyone hears of the write: a listener that throws must not lose its flush.
    if (!callBack && socket.writableLength > 0) socket.write(NOTHING, (this.flushedCallback ??= () => this.flushed()));
    this.notify('queued');
    if (!callBack && socket.writableLength === 0) this.flushedAtOnce();
  }

  /**
   * Tells of a write the kernel took at once, then and there but never nested: a listener that
   * writes again on 'flushed' (a sender paced by the socket) is told in turn, not one frame deeper.
   */
  private flushedAtOnce(): void {
    if (this.telling) return void (this.flushedMeanwhile = true);
    this.telling = true;
    try {
      do {
        this.flushedMeanwhile = false;
        this.flushed();
      } while (this.flushedMeanwhile);
    } finally {
      this.telling = false;
    }
  }
}

const NOTHING = Buffer.alloc(0);

// Where a socket's listeners find their connection.
const CONNECTION = Symbol('connection');
type OwnedSocket = Socket & { [CONNECTION]: Connection };

// Above this many separate parts in one read's answer, they are copied into one Buffer instead.
const MAX_GATHERED_PARTS = 8;
