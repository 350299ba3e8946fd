const EMPTY = Buffer.alloc(0);

// A held part that uses less than a quarter of the memory behind it is copied rather than kept:
// a small view of a large allocation would hold all of it alive.
const KEEP_FACTOR = 4;
// A part under this is copied whatever its allocation: a socket read is a Buffer of its own, which
// costs some 250 bytes of objects besides its bytes (a 1-byte read, 250 times what it holds).
const KEEP_MIN = 1024;
const MIN_TAIL = 64;
const MAX_TAIL = 64 * 1024;

/**
 * The bytes a decoder holds between chunks. Chunks are kept as they are, so that taking a frame
 * that lies inside one is a view of it; a frame that spans chunks is copied once. What is left
 * after a decoding step is `settle`d: a small part, or a small part of a large allocation, is
 * copied into a buffer of the queue's own, so what the queue keeps alive stays a small factor
 * over the bytes it holds, however finely the peer split them.
 *
 * Decoders take a frame as soon as it is complete, so a take either stays in the first chunk or
 * uses up all but the newest one: the cost of every operation is linear in the bytes it takes.
 */
export class ChunkQueue {
  private chunks: Buffer[] = [];
  /** Bytes of `chunks[0]` already taken. */
  private offset = 0;
  private held = 0;
  /** Where small leftovers are copied; `tailView`, while it is the last of `chunks`, is its newest part. */
  private tail: Buffer | undefined;
  private tailView: Buffer | undefined;
  private tailEnd = 0;

  get length(): number {
    return this.held;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.held += chunk.length;
  }

  /**
   * Copies the newest chunk's held part into the queue's own buffer when it is a small part of a
   * large allocation. Decoders call it after each step; every older chunk was settled in its turn.
   */
  settle(): void {
    const last = this.chunks.length - 1;
    // Checked before indexing: reading index -1 of an array is a slow lookup through its prototypes.
    if (last < 0) return;
    const chunk = this.chunks[last];
    if (chunk === this.tailView) return;
    const from = last === 0 ? this.offset : 0;
    const part = chunk.length - from;
    if (part >= KEEP_MIN && part * KEEP_FACTOR >= chunk.buffer.byteLength) return;
    this.chunks.pop();
    if (last === 0) this.offset = 0;
    this.append(chunk.subarray(from));
  }

  private append(bytes: Buffer): void {
    let tail = this.tail;
    let start: number;
    if (tail && this.tailView !== undefined && this.chunks[this.chunks.length - 1] === this.tailView && tail.length - this.tailEnd >= bytes.length) {
      start = this.tailEnd - this.tailView.length;
      this.chunks.pop();
    } else {
      if (!tail || tail.length - this.tailEnd < bytes.length) {
        // Twice what is held: a frame trickled in grows its buffers geometrically, at most 3 times its size in all.
        tail = this.tail = Buffer.allocUnsafeSlow(Math.max(bytes.length, Math.min(MAX_TAIL, Math.max(MIN_TAIL, 2 * this.held))));
        this.tailEnd = 0;
      }
      start = this.tailEnd;
    }
    this.tailEnd += bytes.copy(tail, this.tailEnd);
    this.tailView = tail.subarray(start, this.tailEnd);
    this.chunks.push(this.tailView);
  }

  /** Removes and returns the first `count` bytes; `count` must be at most `length`. */
  take(count: number): Buffer {
    if (count === 0) return EMPTY;
    this.held -= count;
    // An empty queue lets its buffer go: a connection that once held part of a frame keeps nothing.
    if (this.held === 0) this.tail = this.tailView = undefined;
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
    // Not splice(), which makes an array of what it removes.
    for (let i = 0; i < used; i++) this.chunks.shift();
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
