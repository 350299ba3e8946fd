/** What a member carries to be in a LinkedSet: its place in the list, so it is in one LinkedSet at a time. */
export interface Linked<T> {
  listPrev: T | undefined;
  listNext: T | undefined;
}

/**
 * A set of a server's short-lived members (its open connections, its sockets waiting for a PROXY
 * header, the connections its idle limit watches) as a list through the members themselves,
 * rather than a Set. A Set's hash table is made anew as members come and go, and the tables left
 * behind still point at the members they held: V8's young-generation GC takes what old garbage
 * points at as live, so each one gone (and all it reaches) was kept until a full GC. With a Set of
 * open connections, a scavenge under 20,000 connects copied twice the bytes (1.2 MB against 0.6)
 * and paused 3.3 ms against 2.0. Taking a member out clears every pointer to it at once.
 */
export class LinkedSet<T extends Linked<T>> implements Iterable<T> {
  private head: T | undefined;
  private tail: T | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The member added longest ago. */
  get first(): T | undefined {
    return this.head;
  }

  /** Adds `member` last; nothing when it is in already. */
  add(member: T): void {
    if (this.has(member)) return;
    member.listPrev = this.tail;
    member.listNext = undefined;
    if (this.tail) this.tail.listNext = member;
    else this.head = member;
    this.tail = member;
    this.count++;
  }

  has(member: T): boolean {
    return member.listPrev !== undefined || this.head === member;
  }

  /** Takes `member` out; false when it was not in. */
  delete(member: T): boolean {
    if (!this.has(member)) return false;
    this.unlink(member);
    this.count--;
    return true;
  }

  /** Moves `member` last, as if added again; false when it is not in. */
  moveLast(member: T): boolean {
    if (member === this.tail) return true;
    if (!this.has(member)) return false;
    this.unlink(member);
    member.listPrev = this.tail;
    this.tail!.listNext = member;
    this.tail = member;
    return true;
  }

  private unlink(member: T): void {
    if (member.listPrev) member.listPrev.listNext = member.listNext;
    else this.head = member.listNext;
    if (member.listNext) member.listNext.listPrev = member.listPrev;
    else this.tail = member.listPrev;
    member.listPrev = member.listNext = undefined;
  }

  /** In the order they were added. The member just given may be deleted meanwhile; to change more, copy it first (`[...set]`). */
  *[Symbol.iterator](): Iterator<T> {
    for (let member = this.head; member !== undefined; ) {
      const next: T | undefined = member.listNext;
      yield member;
      member = next;
    }
  }
}
