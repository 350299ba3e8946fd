/** Sessions of one peer remembered as ended: more restarts than this within a datagram's life in the network are not expected. */
const RETIRED = 16;

/**
 * Which session of a peer (one address and port) a datagram belongs to. A peer has one session
 * at a time: a datagram of a session not seen before means the peer restarted, and its previous
 * session is retired for good, so a late datagram of it cannot take the tracking back.
 */
export class PeerSessions {
  private current: number | undefined;
  private readonly retired: number[] = [];

  /** The peer's session now, once one of its DATA has arrived. */
  get session(): number | undefined {
    return this.current;
  }

  classify(session: number): 'current' | 'new' | 'retired' {
    if (session === this.current) return 'current';
    return this.retired.includes(session) ? 'retired' : 'new';
  }

  /** A new session of the peer replaces its current one. */
  adopt(session: number): void {
    if (this.current !== undefined) this.retired.push(this.current);
    if (this.retired.length > RETIRED) this.retired.shift();
    this.current = session;
  }
}
