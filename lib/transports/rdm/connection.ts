import { randomInt } from 'node:crypto';
import { Observable } from 'rxjs';
import { decodeRdmPacket, encodeRdmAck, encodeRdmData, MAX_ACK_IDS, RdmPacket, setRdmFloor } from '../../codecs/rdmPacket';
import { DEFAULTS } from '../../core/defaults';
import { MessageTooLarge, SendBacklogFull, SessionShed, Undeliverable } from '../../core/errors';
import { subscribeWithFlow } from '../../operators/internal/operate';
import { ConnectionInfo } from '../../core/handler';
import { TransportConnection } from '../transportConnection';
import { Arrivals } from './arrivals';
import { GatedLink } from './gatedLink';
import { backoff, Reliability, Side } from './options';

/** A message not acknowledged; `withheld` when its last send was held back by the amplification limit, `sent` once one went out. */
type InFlight = { readonly datagram: Buffer; readonly length: number; retries: number; timer: NodeJS.Timeout; withheld: boolean; sent: boolean };

/**
 * One peer of a reliable-datagram session as a connection: the input is each message the peer sent,
 * once, in arrival order; `send` sends each Buffer as one message, retransmitted until acknowledged.
 * At most `window` unacknowledged, the rest wait (`maxQueued`); on a server a full window holds the
 * handler's reads, rather than grow a queue. The README's "Reliable datagrams" states the rules.
 */
export class ReliableDatagramConnection extends TransportConnection {
  readonly outputHighWaterMark = DEFAULTS.highWaterMark;
  /** This side's session id, in every datagram it sends. */
  readonly session = randomInt(0x1_0000_0000);
  readonly counts = { messagesRead: 0, bytesRead: 0, messagesWritten: 0, bytesWritten: 0, retransmissions: 0, duplicates: 0, malformed: 0, refused: 0, stale: 0, withheld: 0 };
  private nextId: number;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly waiting: Buffer[] = [];
  readonly arrivals: Arrivals; // what it took of the peer's messages: a server keeps it a while (endedSessions.ts)
  private readonly link: GatedLink;
  private acks: number[] = [];
  private ackTimer: NodeJS.Immediate | undefined;
  private sender: { fail(err: Error): void; settle(): void } | undefined;
  private linkEnded = false;
  private pendingBytes = 0;
  private retransmittedBytes = 0;
  private readonly windowHolder = {};

  constructor(
    info: ConnectionInfo,
    private readonly reliability: Reliability,
    /** Sends one datagram to the peer. */
    transmit: (datagram: Buffer) => void,
    private readonly side: Side,
  ) {
    super(info, side.budget);
    this.arrivals = side.arrivals ?? new Arrivals();
    this.nextId = (side.firstId ?? 0) >>> 0;
    this.link = new GatedLink(transmit, side.addressValidated);
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

  /** Messages sent and not yet acknowledged: at most `window`. */
  get unacknowledged(): number {
    return this.inFlight.size;
  }

  protected startReading(): void {
    while (this.arrivals.waiting > 0 && this.reader && !this.holdingReads) this.deliver(...this.arrivals.next()!);
    this.holdBytes(0);
    if (this.linkEnded && this.arrivals.waiting === 0) this.endInput();
  }

  // Messages keep arriving while reads are held: they wait in the inbox.
  protected stopReading(): void {}

  /** For the transport: one datagram from the peer. A datagram that is not the protocol is dropped and counted. */
  receive(datagram: Buffer): void {
    this.link.received(datagram.length);
    const packet = decodeRdmPacket(datagram);
    if (!packet) {
      this.counts.malformed++;
    } else if (packet.kind === 'data') {
      this.receiveData(packet);
    } else if (packet.kind === 'probe') {
      this.link.send(encodeRdmAck(this.session, packet.session, []));
    } else if (packet.ackedSession !== this.session) {
      // For messages of another session of ours: not these.
      this.counts.stale++;
    } else {
      if (this.link.validate()) for (const [id, message] of this.inFlight) if (message.withheld) this.sendData(id, message);
      for (const id of packet.ids) this.acknowledged(id);
    }
  }

  private receiveData({ session, to, id, floor, payload }: Extract<RdmPacket, { kind: 'data' }>): void {
    // For a client's previous session on the same port: not this one's to take (0: sent before the server heard from any).
    if (this.side.onlyAddressedToIt && to !== this.session && to !== 0) return void this.counts.stale++;
    let restarted = false;
    // A new session of the peer: batched acknowledgements name the old one, and a server's messages in flight were for
    // it (a new client will not take them); what waits for the window goes to the new one, once adopted.
    const seen = this.arrivals.sort(session, id, floor, () => {
      restarted = true;
      this.flushAcks();
      if (!this.side.onlyAddressedToIt) this.dropInFlight();
    });
    if (restarted && !this.side.onlyAddressedToIt) {
      this.fillWindow();
      this.sender?.settle();
    }
    const counted = this.holdBytes(0);
    if (seen === 'stale') return void this.counts.stale++;
    // Delivered, its acknowledgement lost: acknowledge it again. Still waiting: not yet.
    if (seen === 'delivered') this.acknowledge(id);
    if (seen === 'delivered' || seen === 'waiting') return void this.counts.duplicates++;
    const deliverNow = this.reader !== undefined && !this.holdingReads && this.arrivals.waiting === 0;
    // With the budget full (ids tracked past the floor count too), a message is not taken (its sender retransmits it later).
    const room = counted && (deliverNow ? this.roomFor(payload.length) : this.arrivals.waiting < this.reliability.window && this.holdBytes(payload.length));
    if (seen === 'beyond' || this.inputEnded || !room) return void this.counts.refused++;
    this.counts.messagesRead++;
    this.counts.bytesRead += payload.length;
    this.arrivals.take(id, deliverNow ? undefined : payload);
    if (deliverNow) this.deliver(id, payload);
  }

  private deliver(id: number, payload: Buffer): void {
    this.acknowledge(id);
    this.emitRead(payload);
  }

  private roomFor(bytes: number): boolean {
    return !this.side.budget || this.side.budget.used + bytes <= this.side.budget.limit;
  }

  /** Counts the inbox, the unacknowledged and waiting output and `more` against the budget; false (nothing counted) past it. */
  private holdBytes(more: number): boolean {
    return this.reserveOutput(this.arrivals.bytes + this.pendingBytes + more);
  }

  /**
   * For the transport: no more datagrams will come (the session expired, the server is closing). The input completes
   * once the inbox is read; no acknowledgement can come, so nothing is retransmitted; `send` completes with the output.
   */
  endLink(): void {
    this.linkEnded = true;
    this.dropInFlight();
    this.waiting.length = 0;
    this.pendingBytes = 0;
    this.holdBytes(0);
    this.releaseReads(this.windowHolder);
    if (this.arrivals.waiting === 0) this.endInput();
    this.sender?.settle();
  }

  /** Sends the acknowledgements still batched, stops every timer, and tells the Flow's listeners. */
  dispose(): void {
    this.flushAcks();
    this.dropInFlight();
    this.waiting.length = 0;
    this.arrivals.drop();
    this.endInput();
    this.closed();
  }

  /**
   * Sends every Buffer of `output` as one message. Completes once the output has completed and every message is
   * acknowledged; errors with `MessageTooLarge` for a Buffer longer than one datagram carries, with `Undeliverable`
   * for a message never acknowledged, and with `SessionShed` for one that would take the server past its budget.
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
          if (!this.holdBytes(message.length)) return subscriber.error(new SessionShed(this.arrivals.bytes + this.pendingBytes + message.length, this.side.budget!.limit));
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

  private dropInFlight(): void {
    for (const message of this.inFlight.values()) {
      clearTimeout(message.timer);
      this.pendingBytes -= message.length;
    }
    this.inFlight.clear();
  }

  /** Sends waiting messages while the window has room; holds reads while it has none. */
  private fillWindow(): void {
    while (this.waiting.length > 0 && this.inFlight.size < this.reliability.window) {
      const message = this.waiting.shift()!;
      const floor = this.floor();
      const id = this.nextId;
      this.nextId = (id + 1) >>> 0;
      const datagram = encodeRdmData(this.session, this.arrivals.peerSession ?? 0, id, floor, message);
      if (this.linkEnded) {
        // Nothing can acknowledge it any more: it goes once.
        this.pendingBytes -= message.length;
        this.holdBytes(0);
        if (this.link.send(datagram)) this.sent(message.length);
        continue;
      }
      const entry: InFlight = { datagram, length: message.length, retries: 0, withheld: false, sent: false, timer: setTimeout(() => this.retransmit(id), backoff(this.reliability, 0)) };
      this.inFlight.set(id, entry);
      this.sendData(id, entry);
    }
    if (this.side.holdReadsWhenFull && this.inFlight.size + this.waiting.length >= this.reliability.window && !this.linkEnded) this.holdReads(this.windowHolder);
    else this.releaseReads(this.windowHolder);
  }

  /** Every id of this session before it has been acknowledged: the oldest in flight (the map keeps ids in sending order), or the next. */
  private floor(): number {
    for (const id of this.inFlight.keys()) return id;
    return this.nextId;
  }

  private sent(length: number): void {
    this.counts.messagesWritten++;
    this.counts.bytesWritten += length;
    this.notify('flushed');
  }

  /** Sends a message in flight with the floor of now, unless the amplification limit holds it back; written when it first goes. */
  private sendData(id: number, message: InFlight): boolean {
    if (id !== this.floor()) setRdmFloor(message.datagram, this.floor());
    message.withheld = !this.link.send(message.datagram);
    if (!message.withheld && !message.sent) this.sent(message.length);
    if (!message.withheld) return (message.sent = true);
    this.counts.withheld++;
    this.link.probe(this.session, this.reliability.retransmitMs);
    return false;
  }

  private retransmit(id: number): void {
    const message = this.inFlight.get(id);
    if (!message) return;
    if (message.retries >= this.reliability.maxRetries) return this.sender?.fail(new Undeliverable(id, this.info.remote, message.retries));
    const bytesCapped = this.retransmittedBytes + message.datagram.length > this.reliability.maxRetransmitBytes;
    if (bytesCapped) return this.sender?.fail(new Undeliverable(id, this.info.remote, message.retries, this.retransmittedBytes));
    message.retries++;
    if (this.sendData(id, message)) {
      this.counts.retransmissions++;
      this.retransmittedBytes += message.datagram.length;
    }
    message.timer = setTimeout(() => this.retransmit(id), backoff(this.reliability, message.retries));
  }

  private acknowledged(id: number): void {
    const message = this.inFlight.get(id);
    if (!message) return;
    clearTimeout(message.timer);
    this.inFlight.delete(id);
    this.pendingBytes -= message.length;
    this.retransmittedBytes = 0;
    this.holdBytes(0);
    this.fillWindow();
    this.sender?.settle();
  }

  /** Batches acknowledgements of the peer's current session: those of one turn of the event loop go in one datagram. */
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
    this.link.answer(encodeRdmAck(this.session, this.arrivals.peerSession!, ids));
  }
}
