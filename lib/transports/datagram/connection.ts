import { Observable } from 'rxjs';
import { DEFAULTS } from '../../core/defaults';
import { DatagramTooLarge } from '../../core/errors';
import { subscribeWithFlow } from '../../operators/internal/operate';
import { ConnectionInfo } from '../../core/handler';
import { TransportConnection } from '../transportConnection';

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
export class DatagramConnection extends TransportConnection {
  readonly outputHighWaterMark = DEFAULTS.highWaterMark;
  /** @internal For its server: ends the session (stops its timer, unsubscribes its pipeline, tells of its close). */
  endSession: (() => void) | undefined = undefined;
  private readonly counts = { datagramsRead: 0, bytesRead: 0, datagramsWritten: 0, bytesWritten: 0, droppedUnread: 0, pendingOutput: 0 };

  constructor(
    info: ConnectionInfo,
    /** Sends one datagram to the peer; `sent` is called once the socket has sent it, or failed to. */
    private readonly transmit: (datagram: Buffer, sent: (err: Error | null) => void) => void,
    readonly maxDatagram: number = DEFAULTS.maxDatagram,
  ) {
    super(info);
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

  // A datagram socket cannot stop a peer sending: what arrives while reads are held is dropped.
  protected startReading(): void {}
  protected stopReading(): void {}

  /** For the transport: one datagram from the peer. */
  deliver(datagram: Buffer): void {
    this.counts.datagramsRead++;
    this.counts.bytesRead += datagram.length;
    if (this.reader && !this.holdingReads) return this.emitRead(datagram);
    this.notify('read');
    this.counts.droppedUnread++;
  }

  /** For the transport: the session is over, and its pipeline unsubscribed. */
  end(): void {
    this.endInput();
    this.closed();
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
            // A port-unreachable answer to an earlier datagram surfaces on a connected socket's
            // next send: a hint, like a loss, not a reason to stop sending.
            if (err && (err as NodeJS.ErrnoException).code === 'ECONNREFUSED') return finishIfDone();
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
}
