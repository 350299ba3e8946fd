import { Observable, Subscription } from 'rxjs';
import { Flow } from '../core/flow';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';

export interface EachChunkOptions {
  /** Bytes queued ahead of the loop before reads are held through `flow`. Default 64 KiB. */
  highWaterMark?: number;
  /** With no `flow` to hold reads through: bytes queued ahead of the loop before it fails. Default 16 MiB. */
  maxBufferedBytes?: number;
  /** Where to hold reads while the loop is behind: the connection (a `Connection` is a Flow), or `flowOf(subscriber)`. */
  flow?: Pick<Flow, 'holdReads' | 'releaseReads'>;
}

const EachChunkOptions = strictOptions({}, { highWaterMark: wholeNumber(1), maxBufferedBytes: wholeNumber(1) });

const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;

/**
 * An `Observable<Buffer>` to iterate with `for await`: subscribed at the first `next()`,
 * unsubscribed when the loop ends early (`break`, a throw). The Observable pushes and the loop
 * pulls, so what arrives ahead of the loop is queued: past `highWaterMark` the connection's reads
 * are held through `flow` until the loop has caught up; with no `flow`, a queue past
 * `maxBufferedBytes` fails the loop rather than grow without bound.
 *
 * ```ts
 * for await (const chunk of eachChunk(conn.input, { flow: conn })) process.stdout.write(chunk);
 * ```
 */
export function eachChunk(input: Observable<Buffer>, options: EachChunkOptions = {}): AsyncIterableIterator<Buffer> {
  const { flow, ...limits } = options;
  const opts = decodeOptions('eachChunk', EachChunkOptions, limits);
  return new ChunkIterator(input, opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK, opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED, flow);
}

class ChunkIterator implements AsyncIterableIterator<Buffer> {
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private end: { error?: unknown } | undefined;
  // Pulls not yet answered, oldest first: `next()` may be called again before its promise settles.
  private readonly waiting: { resolve(result: IteratorResult<Buffer>): void; reject(err: unknown): void }[] = [];
  private subscription: Subscription | undefined;
  private holding = false;

  constructor(
    private readonly input: Observable<Buffer>,
    private readonly highWaterMark: number,
    private readonly maxBuffered: number,
    private readonly flow: Pick<Flow, 'holdReads' | 'releaseReads'> | undefined,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    this.subscription ??= this.input.subscribe({
      next: (chunk) => this.arrived(chunk),
      error: (error: unknown) => this.ended({ error }),
      complete: () => this.ended({}),
    });
    const chunk = this.queue.shift();
    if (chunk) {
      this.queuedBytes -= chunk.length;
      if (this.holding && this.queuedBytes <= this.highWaterMark / 2) this.release();
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.end) return this.end.error !== undefined ? Promise.reject(this.end.error) : Promise.resolve({ value: undefined, done: true });
    this.release();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<Buffer>> {
    this.stop();
    return Promise.resolve({ value: undefined, done: true });
  }

  private arrived(chunk: Buffer): void {
    const waiting = this.waiting.shift();
    if (waiting) return waiting.resolve({ value: chunk, done: false });
    this.queue.push(chunk);
    this.queuedBytes += chunk.length;
    if (this.queuedBytes <= this.highWaterMark) return;
    if (this.flow) {
      if (!this.holding) this.flow.holdReads(this);
      this.holding = true;
    } else if (this.queuedBytes > this.maxBuffered) {
      this.stop();
      this.end = { error: new Error(`eachChunk: ${this.queuedBytes} bytes queued ahead of the loop, past maxBufferedBytes (${this.maxBuffered})`) };
    }
  }

  private ended(end: { error?: unknown }): void {
    this.end ??= end;
    for (const waiting of this.waiting.splice(0)) {
      if (end.error !== undefined) waiting.reject(end.error);
      else waiting.resolve({ value: undefined, done: true });
    }
  }

  private stop(): void {
    this.subscription?.unsubscribe();
    this.subscription ??= Subscription.EMPTY;
    this.release();
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.ended({});
  }

  private release(): void {
    if (!this.holding) return;
    this.holding = false;
    this.flow!.releaseReads(this);
  }
}
