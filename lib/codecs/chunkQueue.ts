const EMPTY = Buffer.alloc(0);

/**
 * The bytes a decoder holds between chunks, kept as the chunks themselves: taking a frame that
 * lies inside one chunk is a view of it, and one that spans chunks is copied once.
 *
 * Decoders take a frame as soon as it is complete, so a take either stays in the first chunk or
 * uses up all but the newest one: the cost of every operation is linear in the bytes it takes.
 */
export class ChunkQueue {
  private chunks: Buffer[] = [];
  /** Bytes of `chunks[0]` already taken. */
  private offset = 0;
  private held = 0;

  get length(): number {
    return this.held;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.held += chunk.length;
  }

  /** Removes and returns the first `count` bytes; `count` must be at most `length`. */
  take(count: number): Buffer {
    if (count === 0) return EMPTY;
    this.held -= count;
    const first = this.chunks[0];
    if (this.offset + count <= first.length) {
      const bytes = first.subarray(this.offset, this.offset + count);
      this.offset += count;
      if (this.offset === first.length) {
        this.chunks.shift();
        this.offset = 0;
      }
      return bytes;
    }
    const bytes = Buffer.allocUnsafe(count);
    let copied = 0;
    let used = 0;
    while (copied < count) {
      const chunk = this.chunks[used];
      const end = Math.min(chunk.length, this.offset + count - copied);
      copied += chunk.copy(bytes, copied, this.offset, end);
      if (end === chunk.length) {
        used++;
        this.offset = 0;
      } else {
        this.offset = end;
      }
    }
    this.chunks.splice(0, used);
    return bytes;
  }

  takeAll(): Buffer {
    return this.take(this.held);
  }

  /** A copy of the last `count` bytes, to look across a chunk boundary; `count` is small. */
  lastBytes(count: number): Buffer {
    const bytes = Buffer.allocUnsafe(count);
    let missing = count;
    for (let i = this.chunks.length - 1; missing > 0; i--) {
      const chunk = this.chunks[i];
      const start = Math.max(i === 0 ? this.offset : 0, chunk.length - missing);
      missing -= chunk.copy(bytes, missing - (chunk.length - start), start);
    }
    return bytes;
  }
}
