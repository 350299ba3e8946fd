import { Observable, SchedulerLike } from 'rxjs';
import { subscribeWithFlow } from '../operators/internal/operate';
import { ConnectionInfo } from '../core/handler';
import { TransportConnection } from '../transports/transportConnection';
import { ReadAnswer } from '../transports/stream/readAnswer';

/** How the virtual peer reads what the handler writes. */
export type PeerReads =
  /** At once, in the frame it was written (the default). */
  | true
  /** Never: everything the handler writes stays pending, as with a client that stopped reading. */
  | false
  /** Marbles: at each event the peer reads; how much is `peerReadSizes[letter]`, or all that waits. */
  | string;

export interface PeerReadPlan {
  peerReads: PeerReads;
  /** Frames of a `peerReads` diagram and how many bytes the peer reads then (`Infinity`: all). */
  readFrames: readonly { frame: number; bytes: number }[];
}

/** A chunk the peer sent that waits to be read, or the end of what it sends. */
type Received = Buffer | 'end';

/**
 * A connection whose peer lives in virtual time: it sends what the test scripts, when the test
 * scripts it, and reads the handler's output at a scripted pace. It is a real Flow, so
 * `backpressure()`, `idleTimeout()`, `mergeMapBounded()` act on it as on a socket. It joins
 * writes as a stream socket does: what the pipeline writes while handling one read is held and
 * written when it has been, or before the pipeline's failure (lib/transports/stream/readAnswer.ts),
 * so encoders answer in place here as they do in production, and a test sees the bytes a socket sends.
 */
export class VirtualConnection extends TransportConnection {
  readonly outputHighWaterMark: number;
  readonly joinsWrites = true;
  pendingOutput = 0;
  bytesRead = 0;
  bytesWritten = 0;
  /** What the peer sent, and the pipeline has not read yet: like a socket's receive buffer. */
  private readonly received: Received[] = [];
  private drainScheduled = false;
  private flushScheduled = false;
  private readonly answer = new ReadAnswer();

  constructor(
    info: ConnectionInfo,
    private readonly scheduler: SchedulerLike,
    highWaterMark: number,
    private readonly plan: PeerReadPlan,
    /** Told of each chunk the pipeline reads, and of the input's end. */
    private readonly onRead: (chunk: Buffer | 'end') => void,
    /** Told of each write, as the socket would make it. */
    private readonly onWrite: (chunk: Buffer) => void = () => {},
  ) {
    super(info);
    this.outputHighWaterMark = highWaterMark;
    for (const { frame, bytes } of plan.readFrames) scheduler.schedule(() => this.peerRead(bytes), frame);
  }

  // ---- the peer's side --------------------------------------------------------------------------

  peerSend(chunk: Buffer): void {
    this.received.push(chunk);
    this.drain();
  }

  peerEnd(): void {
    this.received.push('end');
    this.drain();
  }

  /** The connection fails (reset): at once, whatever was still unread is lost, as with a socket. */
  peerFail(error: Error): void {
    this.received.length = 0;
    this.endInput(error);
  }

  // ---- the transport's side ---------------------------------------------------------------------

  protected startReading(): void {
    if (this.received.length === 0 || this.drainScheduled) return;
    // Like a socket's resume(): what waits arrives soon after, not inside the call that released reads.
    this.drainScheduled = true;
    this.scheduler.schedule(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  protected stopReading(): void {
    // Nothing to stop: drain() checks before every chunk whether reads are held.
  }

  private get reading(): boolean {
    return this.reader !== undefined && !this.holdingReads;
  }

  /** Hands the pipeline what waits, in order, while it reads. Bounded by what the peer sent. */
  private drain(): void {
    while (this.received.length > 0 && this.reading) {
      const next = this.received.shift()!;
      this.onRead(next);
      if (next === 'end') {
        this.endInput();
        return;
      }
      this.bytesRead += next.length;
      // A copy, as a socket's read is: the pipeline owns what it reads and may change it in place
      // (the default handler does), and the script's Buffers and the recorded reads stay as written.
      this.answer.begin();
      try {
        this.emitRead(Buffer.from(next));
      } finally {
        this.answer.end(this.sendAnswer);
      }
    }
  }

  send(output: Observable<Buffer>): Observable<never> {
    return new Observable<never>((subscriber) => {
      // Ended or failed while a read is being handled: its answer so far goes out first, as over a socket.
      const subscription = subscribeWithFlow(this, output, {
        next: (chunk) => this.write(chunk),
        error: (err) => {
          this.answer.end(this.sendAnswer);
          subscriber.error(err);
        },
        complete: () => {
          this.answer.end(this.sendAnswer);
          subscriber.complete();
        },
      });
      return () => subscription.unsubscribe();
    });
  }

  private write(chunk: Buffer): void {
    if (!(chunk instanceof Uint8Array) || chunk.length === 0) return;
    if (!this.answer.hold(chunk)) this.queue(chunk);
  }

  private readonly sendAnswer = (parts: readonly Buffer[]) => {
    for (const part of parts) this.queue(part);
  };

  private queue(chunk: Buffer): void {
    this.onWrite(chunk);
    this.pendingOutput += chunk.length;
    this.notify('queued');
    if (this.plan.peerReads === true && !this.flushScheduled) {
      this.flushScheduled = true;
      this.scheduler.schedule(() => {
        this.flushScheduled = false;
        this.peerRead(Infinity);
      });
    }
  }

  private peerRead(bytes: number): void {
    const read = Math.min(bytes, this.pendingOutput);
    if (read === 0) return;
    this.pendingOutput -= read;
    this.bytesWritten += read;
    this.notify('flushed');
  }

  /** The test is over: the pipeline has been unsubscribed, so operators' close listeners run. */
  close(): void {
    this.endInput();
    this.closed();
  }
}
