import { randomInt } from 'node:crypto';
import { Observable } from 'rxjs';
import { decodeRdmPacket, encodeRdmAck, encodeRdmData, MAX_ACK_IDS } from '../../codecs/rdmPacket';
import { DEFAULTS } from '../../core/defaults';
import { MessageTooLarge, SendBacklogFull, Undeliverable } from '../../core/errors';
import { subscribeWithFlow } from '../../operators/internal/operate';
import { ConnectionInfo } from '../../core/handler';
import { TransportConnection } from '../transportConnection';
import { ReceivedIds } from './receivedIds';

export interface Reliability {
  /** Messages sent and not yet acknowledged, at most. */
  readonly window: number;
  /** Messages waiting for the window, at most. */
  readonly maxQueued: number;
  readonly retransmitMs: number;
  readonly maxRetransmitMs: number;
  readonly maxRetries: number;
  /** The longest message: one datagram less the header. */
  readonly maxMessage: number;
}

/** Ids tracked past the oldest missing one: a sender further ahead than this is made to retransmit. */
const RECEIVE_SPAN = 8192;

interface InFlight {
  readonly datagram: Buffer;
  readonly length: number;
  retries: number;
  timer: NodeJS.Timeout;
}

/**
 * One peer of a reliable-datagram session as a connection: the input is each message the peer
 * sent, once, in the order they arrived; `send` sends each Buffer as one message, retransmitted
 * until acknowledged. At most `window` messages are unacknowledged, the rest wait (`maxQueued`).
 * On a server, a full window holds the handler's reads (the Flow contract), so a peer that stops
 * acknowledging stops the handler rather than grow a queue.
 *
 * Messages that arrive while reads are held wait in an inbox of `window` messages, acknowledged;
 * past that they are not acknowledged, and the peer retransmits them later.
 */
export class ReliableDatagramConnection extends TransportConnection {
  readonly outputHighWaterMark = DEFAULTS.highWaterMark;
  /** This side's session id, in every datagram it sends. */
  readonly session = randomInt(0x1_0000_0000);
  readonly counts = { messagesRead: 0, bytesRead: 0, messagesWritten: 0, bytesWritten: 0, retransmissions: 0, duplicates: 0, malformed: 0, refused: 0 };
  private nextId = 0;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly waiting: Buffer[] = [];
  private readonly inbox: Buffer[] = [];
  private readonly received = new ReceivedIds(RECEIVE_SPAN);
  private peerSession: number | undefined;
  private acks: number[] = [];
  private ackTimer: NodeJS.Immediate | undefined;
  private sender: { fail(err: Error): void; settle(): void } | undefined;
  private linkEnded = false;
  private pendingBytes = 0;
  private readonly windowHolder = {};

  constructor(
    info: ConnectionInfo,
    private readonly reliability: Reliability,
    /** Sends one datagram to the peer. */
    private readonly transmit: (datagram: Buffer) => void,
    /**
     * A server's handler answers what it reads, so a full window holds its reads. A client's
     * output is its own, and holding its reads too could leave both sides waiting on each other.
     */
    private readonly holdReadsWhenFull: boolean,
  ) {
    super(info);
  }

  get bytesRead(): number {
    return this.counts.bytesRead;
  }

  get bytesWritten(): number {
    return this.counts.bytesWritten;
  }

  /** Bytes of the messages sent and not yet acknowledged, and of those waiting for the window. */
  get pendingOutput(): number {
    return this.pendingBytes;
  }

  /** Messages sent and not yet acknowledged: never more than `window`. */
  get unacknowledged(): number {
    return this.inFlight.size;
  }

  protected startReading(): void {
    while (this.inbox.length > 0 && this.reader && !this.holdingReads) this.emitRead(this.inbox.shift()!);
    if (this.linkEnded && this.inbox.length === 0) this.endInput();
  }

  // Messages keep arriving while reads are held: they wait in the inbox.
  protected stopReading(): void {}

  /** For the transport: one datagram from the peer. A datagram that is not the protocol is dropped and counted. */
  receive(datagram: Buffer): void {
    const packet = decodeRdmPacket(datagram);
    if (!packet) {
      this.counts.malformed++;
      return;
    }
    if (packet.kind === 'ack') {
      for (const id of packet.ids) this.acknowledged(id);
      return;
    }
    if (this.peerSession !== packet.session) {
      // A new session of the peer (it restarted on the same port): its ids start again.
      if (this.peerSession !== undefined) this.received.reset();
      this.peerSession = packet.session;
    }
    const seen = this.received.check(packet.id);
    if (seen === 'duplicate') {
      // Its acknowledgement was lost: acknowledge it again, deliver it not again.
      this.counts.duplicates++;
      return this.acknowledge(packet.id);
    }
    const deliverNow = this.reader !== undefined && !this.holdingReads && this.inbox.length === 0;
    if (seen === 'beyond' || (!deliverNow && this.inbox.length >= this.reliability.window) || this.inputEnded) {
      this.counts.refused++;
      return;
    }
    this.received.add(packet.id);
    this.acknowledge(packet.id);
    this.counts.messagesRead++;
    this.counts.bytesRead += packet.payload.length;
    if (deliverNow) this.emitRead(packet.payload);
    else this.inbox.push(packet.payload);
  }

  /**
   * For the transport: no more datagrams will come (the session expired, the server is closing).
   * The input completes once the inbox is read; no acknowledgement can come, so nothing is
   * retransmitted, and `send` completes once the output has.
   */
  endLink(): void {
    this.linkEnded = true;
    for (const message of this.inFlight.values()) clearTimeout(message.timer);
    this.inFlight.clear();
    this.waiting.length = 0;
    this.pendingBytes = 0;
    this.releaseReads(this.windowHolder);
    if (this.inbox.length === 0) this.endInput();
    this.sender?.settle();
  }

  /** Sends the acknowledgements still batched, stops every timer, and tells the Flow's listeners. */
  dispose(): void {
    this.flushAcks();
    for (const message of this.inFlight.values()) clearTimeout(message.timer);
    this.inFlight.clear();
    this.waiting.length = 0;
    this.inbox.length = 0;
    this.endInput();
    this.closed();
  }

  /**
   * Sends every Buffer of `output` as one message. Completes once the output has completed and
   * every message is acknowledged; errors with `MessageTooLarge` for a Buffer longer than one
   * datagram carries, and with `Undeliverable` for a message never acknowledged.
   */
  send(output: Observable<Buffer>): Observable<never> {
    return new Observable<never>((subscriber) => {
      if (this.sender) return subscriber.error(new Error(`connection #${this.info.id}: send already has a subscriber`));
      let outputDone = false;
      this.sender = {
        fail: (err) => subscriber.error(err),
        settle: () => outputDone && this.inFlight.size === 0 && this.waiting.length === 0 && subscriber.complete(),
      };
      const subscription = subscribeWithFlow(this, output, {
        next: (message) => {
          if (subscriber.closed) return;
          if (message.length > this.reliability.maxMessage) return subscriber.error(new MessageTooLarge(message.length, this.reliability.maxMessage));
          if (this.waiting.length >= this.reliability.maxQueued) return subscriber.error(new SendBacklogFull(this.reliability.maxQueued));
          this.pendingBytes += message.length;
          this.waiting.push(message);
          this.notify('queued');
          this.fillWindow();
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          outputDone = true;
          this.sender?.settle();
        },
      });
      return () => {
        subscription.unsubscribe();
        this.sender = undefined;
      };
    });
  }

  /** Sends waiting messages while the window has room; holds reads while it has none. */
  private fillWindow(): void {
    while (this.waiting.length > 0 && this.inFlight.size < this.reliability.window) {
      const message = this.waiting.shift()!;
      if (this.linkEnded) {
        // Nothing can acknowledge it any more: it goes once.
        this.pendingBytes -= message.length;
        this.sent(message.length, encodeRdmData(this.session, this.takeId(), message));
        continue;
      }
      const id = this.takeId();
      const datagram = encodeRdmData(this.session, id, message);
      this.inFlight.set(id, { datagram, length: message.length, retries: 0, timer: setTimeout(() => this.retransmit(id), this.backoff(0)) });
      this.sent(message.length, datagram);
    }
    if (this.holdReadsWhenFull && this.inFlight.size + this.waiting.length >= this.reliability.window && !this.linkEnded) this.holdReads(this.windowHolder);
    else this.releaseReads(this.windowHolder);
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    return id;
  }

  private sent(length: number, datagram: Buffer): void {
    this.counts.messagesWritten++;
    this.counts.bytesWritten += length;
    this.transmit(datagram);
    this.notify('flushed');
  }

  /** The wait before the next send of a message sent `retries` times before: doubling, capped, with up to 25% jitter. */
  private backoff(retries: number): number {
    const { retransmitMs, maxRetransmitMs } = this.reliability;
    return Math.min(retransmitMs * 2 ** retries, maxRetransmitMs) * (1 + Math.random() / 4);
  }

  private retransmit(id: number): void {
    const message = this.inFlight.get(id);
    if (!message) return;
    if (message.retries >= this.reliability.maxRetries) return this.sender?.fail(new Undeliverable(id, this.info.remote, message.retries));
    message.retries++;
    this.counts.retransmissions++;
    this.transmit(message.datagram);
    message.timer = setTimeout(() => this.retransmit(id), this.backoff(message.retries));
  }

  private acknowledged(id: number): void {
    const message = this.inFlight.get(id);
    if (!message) return;
    clearTimeout(message.timer);
    this.inFlight.delete(id);
    this.pendingBytes -= message.length;
    this.fillWindow();
    this.sender?.settle();
  }

  /** Batches acknowledgements: those of one turn of the event loop go in one datagram. */
  private acknowledge(id: number): void {
    this.acks.push(id);
    if (this.acks.length >= MAX_ACK_IDS) this.flushAcks();
    else this.ackTimer ??= setImmediate(() => this.flushAcks());
  }

  private flushAcks(): void {
    if (this.ackTimer) clearImmediate(this.ackTimer);
    this.ackTimer = undefined;
    if (this.acks.length === 0) return;
    const ids = this.acks;
    this.acks = [];
    this.transmit(encodeRdmAck(this.session, ids));
  }
}
