import { randomInt } from 'node:crypto';
import { Observable } from 'rxjs';
import { decodeRdmPacket, encodeRdmAck, encodeRdmData, encodeRdmProbe, MAX_ACK_IDS, RdmPacket, setRdmFloor } from '../../codecs/rdmPacket';
import { DEFAULTS } from '../../core/defaults';
import { MessageTooLarge, SendBacklogFull, SessionShed, Undeliverable } from '../../core/errors';
import { subscribeWithFlow } from '../../core/flow';
import { ConnectionInfo } from '../../core/handler';
import { BufferBudget, TransportConnection } from '../connection';
import { AmplificationLimit } from './amplificationLimit';
import { PeerSessions } from './peerSessions';
import { isBefore, ReceivedIds } from './receivedIds';

export interface Reliability {
  /** Messages sent and not yet acknowledged, at most. */
  readonly window: number;
  /** Messages waiting for the window, at most. */
  readonly maxQueued: number;
  readonly retransmitMs: number;
  readonly maxRetransmitMs: number;
  readonly maxRetries: number;
  /** Bytes retransmitted since the peer last acknowledged a message, at most. */
  readonly maxRetransmitBytes: number;
  /** The longest message: one datagram less the header. */
  readonly maxMessage: number;
}

/** What differs between a server's side of a session and a client's. */
export interface Side {
  /**
   * A server's handler answers what it reads, so a full window holds its reads. A client's
   * output is its own, and holding its reads too could leave both sides waiting on each other.
   */
  readonly holdReadsWhenFull: boolean;
  /** A client chose its server's address; a server must see a peer's address proved before it sends it more than 3× what it received. */
  readonly addressValidated: boolean;
  /** The server-wide budget the inbox and the unacknowledged output count against. */
  readonly budget?: BufferBudget;
  /** The id of the first message: 0 unless a test starts near the wrap. */
  readonly firstId?: number;
}

/** Ids tracked past the oldest missing one: a sender further ahead than this is made to retransmit. */
const RECEIVE_SPAN = 8192;

interface InFlight {
  readonly datagram: Buffer;
  readonly length: number;
  retries: number;
  timer: NodeJS.Timeout;
  /** Its last send was held back by the amplification limit. */
  withheld: boolean;
}

/**
 * One peer of a reliable-datagram session as a connection: the input is each message the peer
 * sent, once, in the order they arrived; `send` sends each Buffer as one message, retransmitted
 * until acknowledged. At most `window` messages are unacknowledged, the rest wait (`maxQueued`).
 * On a server, a full window holds the handler's reads (the Flow contract), so a peer that stops
 * acknowledging stops the handler rather than grow a queue.
 *
 * A message is acknowledged once it is delivered (emitted on the input). Messages that arrive
 * while reads are held wait in an inbox of `window` messages, unacknowledged; past that they are
 * refused, and the peer retransmits them later. The README's "Reliable datagrams" states the rules.
 */
export class ReliableDatagramConnection extends TransportConnection {
  readonly outputHighWaterMark = DEFAULTS.highWaterMark;
  /** This side's session id, in every datagram it sends. */
  readonly session = randomInt(0x1_0000_0000);
  readonly counts = { messagesRead: 0, bytesRead: 0, messagesWritten: 0, bytesWritten: 0, retransmissions: 0, duplicates: 0, malformed: 0, refused: 0, stale: 0, withheld: 0 };
  private nextId: number;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly waiting: Buffer[] = [];
  /** Messages taken and not yet delivered, by id, in arrival order; all of the peer's current session. */
  private readonly inbox = new Map<number, Buffer>();
  private inboxBytes = 0;
  private readonly received = new ReceivedIds(RECEIVE_SPAN);
  private readonly peer = new PeerSessions();
  private readonly limit: AmplificationLimit;
  private acks: number[] = [];
  private ackTimer: NodeJS.Immediate | undefined;
  private sender: { fail(err: Error): void; settle(): void } | undefined;
  private linkEnded = false;
  private pendingBytes = 0;
  private retransmittedBytes = 0;
  private lastProbe = -Infinity;
  private readonly windowHolder = {};

  constructor(
    info: ConnectionInfo,
    private readonly reliability: Reliability,
    /** Sends one datagram to the peer. */
    private readonly transmit: (datagram: Buffer) => void,
    private readonly side: Side,
  ) {
    super(info, side.budget);
    this.nextId = (side.firstId ?? 0) >>> 0;
    this.limit = new AmplificationLimit(side.addressValidated);
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
    for (const [id, payload] of this.inbox) {
      if (!this.reader || this.holdingReads) break;
      this.inbox.delete(id);
      this.inboxBytes -= payload.length;
      this.deliver(id, payload);
    }
    this.holdBytes(0);
    if (this.linkEnded && this.inbox.size === 0) this.endInput();
  }

  // Messages keep arriving while reads are held: they wait in the inbox.
  protected stopReading(): void {}

  /** For the transport: one datagram from the peer. A datagram that is not the protocol is dropped and counted. */
  receive(datagram: Buffer): void {
    this.limit.received(datagram.length);
    const packet = decodeRdmPacket(datagram);
    if (!packet) {
      this.counts.malformed++;
    } else if (packet.kind === 'data') {
      this.receiveData(packet);
    } else if (packet.kind === 'probe') {
      this.sendGated(encodeRdmAck(this.session, packet.session, []));
    } else if (packet.ackedSession !== this.session) {
      // For messages of another session of ours: not these.
      this.counts.stale++;
    } else {
      if (this.limit.validate()) for (const [id, message] of this.inFlight) if (message.withheld) this.sendData(id, message);
      for (const id of packet.ids) this.acknowledged(id);
    }
  }

  private receiveData(packet: Extract<RdmPacket, { kind: 'data' }>): void {
    const which = this.peer.classify(packet.session);
    if (which === 'retired') return void this.counts.stale++;
    if (which === 'new') {
      // The peer restarted: what waits of its old session is dropped unacknowledged, as its sender is gone.
      this.flushAcks();
      this.peer.adopt(packet.session);
      this.received.startAt(packet.floor);
      this.dropInbox(() => true);
    } else {
      this.received.advance(packet.floor);
      // Acknowledged to the sender, so delivered: before this side last forgot the peer.
      this.dropInbox((id) => isBefore(id, packet.floor));
    }
    const { id, payload } = packet;
    const seen = this.received.check(id);
    if (seen === 'duplicate') {
      this.counts.duplicates++;
      // Delivered, its acknowledgement lost: acknowledge it again. Still waiting: not yet.
      if (!this.inbox.has(id)) this.acknowledge(id);
      return;
    }
    const deliverNow = this.reader !== undefined && !this.holdingReads && this.inbox.size === 0;
    const refused = seen === 'beyond' || this.inputEnded || (!deliverNow && (this.inbox.size >= this.reliability.window || !this.holdBytes(payload.length)));
    if (refused) return void this.counts.refused++;
    this.received.add(id);
    this.counts.messagesRead++;
    this.counts.bytesRead += payload.length;
    if (deliverNow) return this.deliver(id, payload);
    this.inbox.set(id, payload);
    this.inboxBytes += payload.length;
  }

  private deliver(id: number, payload: Buffer): void {
    this.acknowledge(id);
    this.emitRead(payload);
  }

  private dropInbox(which: (id: number) => boolean): void {
    for (const [id, payload] of this.inbox) {
      if (!which(id)) continue;
      this.inbox.delete(id);
      this.inboxBytes -= payload.length;
    }
    this.holdBytes(0);
  }

  /** Counts the inbox, the unacknowledged and waiting output and `more` against the budget; false (nothing counted) past it. */
  private holdBytes(more: number): boolean {
    return this.reserveOutput(this.inboxBytes + this.pendingBytes + more);
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
    this.holdBytes(0);
    this.releaseReads(this.windowHolder);
    if (this.inbox.size === 0) this.endInput();
    this.sender?.settle();
  }

  /** Sends the acknowledgements still batched, stops every timer, and tells the Flow's listeners. */
  dispose(): void {
    this.flushAcks();
    for (const message of this.inFlight.values()) clearTimeout(message.timer);
    this.inFlight.clear();
    this.waiting.length = 0;
    // Never acknowledged: their sender learns they were not delivered.
    this.inbox.clear();
    this.endInput();
    this.closed();
  }

  /**
   * Sends every Buffer of `output` as one message. Completes once the output has completed and
   * every message is acknowledged; errors with `MessageTooLarge` for a Buffer longer than one
   * datagram carries, with `Undeliverable` for a message never acknowledged, and with
   * `SessionShed` for one that would take the server past its budget.
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
          if (!this.holdBytes(message.length)) return subscriber.error(new SessionShed(this.inboxBytes + this.pendingBytes + message.length, this.side.budget!.limit));
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
      const floor = this.floor();
      const id = this.takeId();
      if (this.linkEnded) {
        // Nothing can acknowledge it any more: it goes once.
        this.pendingBytes -= message.length;
        this.holdBytes(0);
        if (this.sendGated(encodeRdmData(this.session, id, floor, message))) this.sent(message.length);
        continue;
      }
      const entry: InFlight = { datagram: encodeRdmData(this.session, id, floor, message), length: message.length, retries: 0, withheld: false, timer: setTimeout(() => this.retransmit(id), this.backoff(0)) };
      this.inFlight.set(id, entry);
      if (this.sendData(id, entry)) this.sent(message.length);
    }
    if (this.side.holdReadsWhenFull && this.inFlight.size + this.waiting.length >= this.reliability.window && !this.linkEnded) this.holdReads(this.windowHolder);
    else this.releaseReads(this.windowHolder);
  }

  private takeId(): number {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    return id;
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

  /** Sends a message in flight with the floor of now, unless the amplification limit holds it back. */
  private sendData(id: number, message: InFlight): boolean {
    if (id !== this.floor()) setRdmFloor(message.datagram, this.floor());
    message.withheld = !this.sendGated(message.datagram);
    if (message.withheld) {
      this.counts.withheld++;
      // Ask the peer to name our session back, which validates its address; once per retransmission wait at most.
      if (Date.now() - this.lastProbe >= this.reliability.retransmitMs && this.sendGated(encodeRdmProbe(this.session))) this.lastProbe = Date.now();
    }
    return !message.withheld;
  }

  private sendGated(datagram: Buffer): boolean {
    if (!this.limit.allows(datagram.length)) return false;
    this.limit.sent(datagram.length);
    this.transmit(datagram);
    return true;
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
    if (this.retransmittedBytes + message.datagram.length > this.reliability.maxRetransmitBytes) {
      return this.sender?.fail(new Undeliverable(id, this.info.remote, message.retries, this.retransmittedBytes));
    }
    message.retries++;
    if (this.sendData(id, message)) {
      this.counts.retransmissions++;
      this.retransmittedBytes += message.datagram.length;
    }
    message.timer = setTimeout(() => this.retransmit(id), this.backoff(message.retries));
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
    // Smaller than the DATA it answers, so it always goes, and counts towards the amplification limit.
    const ack = encodeRdmAck(this.session, this.peer.session!, ids);
    this.limit.sent(ack.length);
    this.transmit(ack);
  }
}
