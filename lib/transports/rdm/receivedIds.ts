/**
 * Which of a peer's message ids have arrived, so that a retransmission is delivered once: every id
 * before `floor`, and those of the next `span` ids marked in `above`. Ids are 32-bit and wrap, so
 * they are compared by their distance from `floor`.
 */
export class ReceivedIds {
  private floor = 0;
  private readonly above = new Set<number>();

  constructor(private readonly span: number) {}

  /** `new` for an id not seen yet; `beyond` for one too far ahead to be tracked, which is not taken. */
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

  /** Ids marked past the floor: never more than `span`. */
  get tracked(): number {
    return this.above.size;
  }

  /** Forgets everything: the peer started a new session, whose ids start again. */
  reset(): void {
    this.floor = 0;
    this.above.clear();
  }
}
