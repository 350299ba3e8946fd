import { Socket } from 'node:net';
import { Observable, Subscriber } from 'rxjs';
import { DEFAULTS } from '../../core/defaults';
import { subscribeWithFlow } from '../../core/flow';
import { ConnectionInfo } from '../../core/handler';
import { TransportConnection } from '../connection';

/**
 * One stream socket (TCP, Unix, TLS) as an Observable of what the peer sends (`input`) and a sink
 * for what we send (`send`). The input pauses the socket while nobody subscribes or a pipeline
 * operator holds reads.
 */
export class Connection extends TransportConnection {
  private sender: Subscriber<never> | undefined;
  /** Output written while a read is being handled, sent when it has been; one array, reused. */
  private readonly answer: Buffer[] = [];
  private answering = false;
  private failure: Error | undefined;

  constructor(
    readonly socket: Socket,
    info: ConnectionInfo,
    /** What `backpressure()` holds reads at by default; a TLS socket does not take the server's own. */
    readonly outputHighWaterMark = socket.writableHighWaterMark,
  ) {
    super(info);
    socket.pause();
    // Kept lean: one listener per socket event, for whoever is subscribed now. An 'error' with no
    // listener would crash the process; the first one is kept for whoever subscribes later.
    socket.on('data', this.read);
    socket.on('error', (err) => {
      this.failure ??= err;
      this.endInput(err);
      this.sender?.error(err);
    });
    socket.on('end', () => this.endInput());
    socket.on('close', () => {
      this.endInput(this.failure);
      if (this.failure) this.sender?.error(this.failure);
      else this.sender?.complete();
      this.closed();
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

  protected startReading(): void {
    this.socket.resume();
  }

  protected stopReading(): void {
    if (!this.socket.destroyed) this.socket.pause();
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

  /** Ends our side once pending output is flushed; `flushed` is called then. */
  end(flushed?: () => void): void {
    const socket = this.socket;
    if (socket.destroyed) return flushed?.();
    this.writeAnswer(); // the handler may complete while a read is being answered
    socket.end(flushed);
    if (!this.reader && !socket.readableEnded) {
      // Nobody reads any more: drop what the peer still sends so its FIN can arrive, and don't
      // wait for it forever.
      socket.resume();
      const linger = setTimeout(() => socket.destroy(), DEFAULTS.lingerMs);
      socket.once('close', () => clearTimeout(linger));
    }
  }

  /** Closes both sides at once, dropping pending output. */
  destroy(): void {
    this.socket.destroy();
  }

  private readonly read = (chunk: Buffer) => {
    // What the pipeline writes in answer to one read goes out as one write, not one per frame.
    this.answering = true;
    try {
      this.emitRead(chunk);
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
    const bytes = answer.length === 1 ? answer[0]! : Buffer.concat(answer);
    answer.length = 0;
    if (!this.socket.writable) return;
    this.socket.write(bytes, this.flushed);
    this.notify('queued');
  }
}
