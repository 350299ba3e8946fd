/** Whether `id` comes before `floor` in 32-bit ids that wrap: less than 2³¹ behind it. */
export function isBefore(id: number, floor: number): boolean {
  return (id - floor) >>> 0 >= 0x8000_0000;
}

/**
 * Which of a peer session's message ids have been taken, so that a retransmission is delivered
 * once: every id before `floor`, and those of the next `span` ids marked in `above`. Ids are
 * 32-bit and wrap, so they are compared by their distance from `floor`: up to 2³¹ behind it is old.
 */
export class ReceivedIds {
  private floor = 0;
  private readonly above = new Set<number>();

  constructor(private readonly span: number) {}

  /** `new` for an id not taken yet; `beyond` for one too far ahead to be tracked, which is not taken. */
  check(id: number): 'new' | 'duplicate' | 'beyond' {
    const ahead = (id - this.floor) >>> 0;
    if (ahead >= 0x8000_0000) return 'duplicate';
    if (ahead >= this.span) return 'beyond';
    return this.above.has(id) ? 'duplicate' : 'new';
  }

  /** Marks an id `check` called new. */
  add(id: number): void {
    if (id !== this.floor) {
      this.above.add(id);
      return;
    }
    this.floor = (this.floor + 1) >>> 0;
    while (this.above.delete(this.floor)) this.floor = (this.floor + 1) >>> 0;
  }

  /**
   * The sender says every id before `floor` was acknowledged, so taken: forget them. A floor behind
   * this one (a datagram that was overtaken) changes nothing.
   */
  advance(floor: number): void {
    const ahead = (floor - this.floor) >>> 0;
    if (ahead === 0 || ahead >= 0x8000_0000) return;
    // Whichever is fewer: the ids passed, or the ids tracked. A peer moving its floor one id at a
    // time past a full window must not cost a walk of all 8,192 for each datagram.
    if (ahead < this.above.size) for (let id = this.floor; id !== floor; id = (id + 1) >>> 0) this.above.delete(id);
    else for (const id of this.above) if (isBefore(id, floor)) this.above.delete(id);
    this.floor = floor;
    while (this.above.delete(this.floor)) this.floor = (this.floor + 1) >>> 0;
  }

  /** Ids marked past the floor: never more than `span`. */
  get tracked(): number {
    return this.above.size;
  }

  /** Forgets everything and tracks a new session of the peer, from its floor. */
  startAt(floor: number): void {
    this.floor = floor >>> 0;
    this.above.clear();
  }
}
