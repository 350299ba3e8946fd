import { PeerSessions } from './peerSessions';
import { isBefore, ReceivedIds } from './receivedIds';

/** Ids tracked past the oldest missing one: a sender further ahead than this is made to retransmit. */
const RECEIVE_SPAN = 8192;
// What one id taken past the floor costs in `ReceivedIds`' Set, counted against the budget: a peer
// that leaves gaps below the ids it sends cannot make the server track 8,191 of them for free.
const TRACKED_ID_BYTES = 20;

/** What a DATA is to the receiver: see `Arrivals.sort`. */
export type Arrival = 'stale' | 'delivered' | 'waiting' | 'beyond' | 'new';

/**
 * The receiving half of a session: which messages of the peer's session were taken, and the
 * inbox of those taken and not yet delivered (so not yet acknowledged), in arrival order. It
 * applies the session and id rules the README's "Reliable datagrams" states.
 */
export class Arrivals {
  private readonly inbox = new Map<number, Buffer>();
  private inboxBytes = 0;
  private readonly received = new ReceivedIds(RECEIVE_SPAN);
  private readonly peer = new PeerSessions();

  /** The peer's current session, once one of its DATA has arrived: the one acknowledgements name. */
  get peerSession(): number | undefined {
    return this.peer.session;
  }

  get waiting(): number {
    return this.inbox.size;
  }

  /** Ids taken past the oldest one missing. */
  get tracked(): number {
    return this.received.tracked;
  }

  /** Bytes of the messages waiting, and of the ids taken past the floor (a Set entry each, ~20 bytes). */
  get bytes(): number {
    return this.inboxBytes + this.received.tracked * TRACKED_ID_BYTES;
  }

  /**
   * Sorts a DATA: `stale` for a session the peer has left; `delivered` for a message delivered
   * before (acknowledge it again); `waiting` for one in the inbox (not acknowledged yet); `beyond`
   * for one too far ahead to track; `new` for one to take. `restarted` is called first when the
   * DATA starts a new session of a peer that had one, whose inbox is dropped unacknowledged.
   */
  sort(session: number, id: number, floor: number, restarted: () => void): Arrival {
    const which = this.peer.classify(session);
    if (which === 'retired') return 'stale';
    if (which === 'new') {
      if (this.peer.session !== undefined) restarted();
      this.peer.adopt(session);
      this.received.startAt(floor);
      this.drop(() => true);
    } else {
      this.received.advance(floor);
      // Acknowledged to the sender, so delivered, before this side last forgot the peer: not again.
      this.drop((waiting) => isBefore(waiting, floor));
    }
    if (this.inbox.has(id)) return 'waiting';
    const seen = this.received.check(id);
    return seen === 'duplicate' ? 'delivered' : seen;
  }

  /**
   * Takes a message `sort` called new: delivered at once, or put in the inbox with `payload`. Its id
   * counts as received only once delivered, so that one dropped from the inbox unacknowledged is
   * taken again when its sender retransmits it, whatever this side remembers of the session.
   */
  take(id: number, payload?: Buffer): void {
    if (!payload) return this.received.add(id);
    this.inbox.set(id, payload);
    this.inboxBytes += payload.length;
  }

  /** The oldest message waiting, out of the inbox, to be delivered now. */
  next(): [number, Buffer] | undefined {
    for (const entry of this.inbox) {
      this.inbox.delete(entry[0]);
      this.inboxBytes -= entry[1].length;
      this.received.add(entry[0]);
      return entry;
    }
    return undefined;
  }

  /** Drops the waiting messages `which` picks (all by default): never acknowledged, so their sender learns they were not delivered. */
  drop(which: (id: number) => boolean = () => true): void {
    for (const [id, payload] of this.inbox) {
      if (!which(id)) continue;
      this.inbox.delete(id);
      this.inboxBytes -= payload.length;
    }
  }
}
