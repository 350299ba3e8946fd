import { Arrivals } from './arrivals';

// A server forgets a peer when its session expires (`idleMs` of silence). A message it delivered
// whose acknowledgements were all lost is still the sender's to retransmit, possibly after that:
// taken again by a fresh session, it would be delivered twice. So what a session had taken is
// remembered for as long as its sender may retransmit (as TCP's TIME_WAIT outlives a connection),
// and a peer that comes back within that time is picked up where it was, its duplicates
// acknowledged, not delivered.

// A session that took more ids than this past its oldest missing one left gaps no well-behaved
// sender leaves: it is not remembered (at worst its own retransmissions are delivered again). With
// `maxPeers` entries this bounds what the memory holds outside `maxBufferedBytes` (~2 KB each).
const MAX_TRACKED_TO_REMEMBER = 64;

interface Ended {
  readonly arrivals: Arrivals;
  readonly until: number;
}

/**
 * The receiving state of ended sessions, by peer address, each for `rememberMs`, at most `maxPeers`
 * of them (the oldest give way): no timer, expired entries go as new ones come.
 */
export class EndedSessions {
  private readonly byPeer = new Map<string, Ended>();

  constructor(
    private readonly rememberMs: number,
    private readonly maxPeers: number,
  ) {}

  /** `arrivals` of `peer`'s session, just ended (its inbox already dropped, never acknowledged): what it delivered is kept. */
  keep(peer: string, arrivals: Arrivals, now = Date.now()): void {
    this.byPeer.delete(peer);
    for (const [oldest, ended] of this.byPeer) {
      if (ended.until > now && this.byPeer.size < this.maxPeers) break;
      this.byPeer.delete(oldest);
    }
    if (arrivals.tracked > MAX_TRACKED_TO_REMEMBER) return;
    this.byPeer.set(peer, { arrivals, until: now + this.rememberMs });
  }

  /** What `peer`'s last session had taken, if it ended less than `rememberMs` ago; forgotten here once taken. */
  take(peer: string, now = Date.now()): Arrivals | undefined {
    const ended = this.byPeer.get(peer);
    if (!ended) return undefined;
    this.byPeer.delete(peer);
    return ended.until > now ? ended.arrivals : undefined;
  }
}
