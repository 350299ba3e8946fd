/**
 * What a connection's pipeline writes while one read is handled, held and then sent as one write,
 * since a stream socket's write boundaries mean nothing: the per-read half of the pair that joins
 * writes (the per-frame half is encodeFrames', see lib/operators/internal/answerInPlace.ts).
 * Parts that lie end to end in one ArrayBuffer (views an encoder answered frames with) are joined
 * into one view first. The stream transport and the test kit's virtual connection both hold a
 * read's answer here, so a test sees the writes a socket would make. One array, reused: no
 * garbage per read.
 */
export class ReadAnswer {
  private readonly parts: Buffer[] = [];
  private answering = false;

  /** A read is about to be handed to the pipeline. */
  begin(): void {
    this.answering = true;
  }

  /** Holds `chunk` while a read is being answered; false when it is to be written now. */
  hold(chunk: Buffer): boolean {
    if (!this.answering) return false;
    this.parts.push(chunk);
    return true;
  }

  /**
   * The read has been handled, or the pipeline has ended or failed while handling it: `send` gets
   * what was held, adjacent views joined, and it is forgotten; called on `target`, so that a
   * connection passes its method rather than a closure of its own. Writes from now on are not held.
   */
  end<T>(send: (this: T, parts: readonly Buffer[]) => void, target?: T): void {
    this.answering = false;
    const parts = this.parts;
    if (parts.length === 0) return;
    if (parts.length > 1) joinAdjacent(parts);
    try {
      send.call(target as T, parts);
    } finally {
      // Emptied by pop(): setting the length to 0 frees the array's store, which the next read's
      // push would allocate again, garbage on every read.
      while (parts.length > 0) parts.pop();
    }
  }
}

/**
 * Joins runs of parts that lie end to end in one ArrayBuffer (frames an encoder answered with
 * views of their read) into one view each, in place.
 */
function joinAdjacent(parts: Buffer[]): void {
  let runs = 0;
  let first = parts[0]!;
  let firstBuffer: ArrayBufferLike | undefined;
  let runLength = first.length;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    // Offsets first: the buffer getter costs more, and most parts that are not adjacent fail here.
    if (part.byteOffset === first.byteOffset + runLength && part.buffer === (firstBuffer ??= first.buffer)) {
      runLength += part.length;
      continue;
    }
    parts[runs++] = runLength === first.length ? first : Buffer.from(first.buffer, first.byteOffset, runLength);
    first = part;
    firstBuffer = undefined;
    runLength = part.length;
  }
  parts[runs++] = runLength === first.length ? first : Buffer.from(first.buffer, first.byteOffset, runLength);
  parts.length = runs;
}
