import { UnsubscriptionError } from 'rxjs';
import { IdleTimeout } from '../../core/errors';
import { ChainedSubscriber } from '../../operators/internal/operate';
import { IdleWatch, Watched } from './idleWatch';

/** What a Serving needs of its connection (a stream Connection). */
export interface ServedConnection {
  /** Writes one chunk the pipeline emitted. */
  writeOutput(chunk: Buffer): void;
  /** Sends what the pipeline answered to the read being handled so far. */
  sendHeldAnswer(): void;
  /** Ends our side once pending output is flushed; `flushed` is called then. */
  end(flushed?: () => void): void;
}

/**
 * One pipeline `serve` sends: the end of its subscriber chain (one object per connection where an
 * observer and a sink wrapping it were), and what hears of the socket failing or closing. `failed`
 * or `done` is told once; the pipeline is unsubscribed then. `failed` is given the connection, so
 * that a server passes one function for all its connections. While it runs, the server's idle
 * limit watches it.
 */
export class Serving<C extends ServedConnection> extends ChainedSubscriber<Buffer> implements Watched {
  settled = false;
  listPrev: Watched | undefined = undefined;
  listNext: Watched | undefined = undefined;
  idleTick = 0;

  constructor(
    private readonly conn: C,
    private readonly failed: (err: unknown, conn: C) => void,
    private readonly done: (() => void) | undefined,
    private readonly idle: IdleWatch | undefined,
  ) {
    super();
    idle?.watch(this);
  }

  /** Bytes moved on the connection. */
  touch(): void {
    this.idle?.touch(this);
  }

  idleExpired(): void {
    this.fail(new IdleTimeout(this.idle!.ms));
  }

  protected onValue(chunk: Buffer): void {
    // Checked here, since handlers are the user's code: anything else ends only this connection.
    if (Buffer.isBuffer(chunk)) this.conn.writeOutput(chunk);
    else this.fail(new TypeError(`emitted ${kindOf(chunk)}, expected Buffer`));
  }

  protected _error(err: unknown): void {
    this.fail(err);
  }

  protected _complete(): void {
    try {
      this.conn.end(() => this.finish());
    } catch (err) {
      return this.fail(err);
    }
    // Its teardowns run now, the pipeline being done; one that throws is the handler's fault.
    const thrown = this.teardown();
    if (thrown !== undefined) this.fail(thrown);
  }

  /** The pipeline or the socket failed; told at most once, whatever the pipeline did before. */
  fail(err: unknown): void {
    if (this.settled) return;
    this.settle();
    // The replies to what was read before the failure go out first (a handler that throws on
    // the second line of a read still answers the first), then the connection ends.
    try {
      this.conn.sendHeldAnswer();
    } catch {
      // A listener that throws on this last write: the connection is ending for `err` already.
    }
    this.failed(err, this.conn);
  }

  /** The output is complete and flushed, or the socket has closed. */
  finish(): void {
    if (this.settled) return;
    const thrown = this.settle();
    if (thrown !== undefined) this.failed(thrown, this.conn);
    else this.done?.();
  }

  /** Stops watching and unsubscribes the pipeline; returns what a faulty teardown threw, which is the caller's to report. */
  settle(): unknown {
    this.settled = true;
    this.idle?.unwatch(this);
    return this.teardown();
  }

  // A teardown that throws (a handler's finalize) must end this connection only: rather than out
  // of a socket's listener or a timer, what it threw is returned.
  private teardown(): unknown {
    try {
      this.unsubscribe();
      return undefined;
    } catch (err) {
      // RxJS gathers teardown errors into one; a single one is told as itself.
      return err instanceof UnsubscriptionError && err.errors.length === 1 ? err.errors[0] : err;
    }
  }
}

/** What a handler emitted instead of a Buffer, for its error line: `number`, `string`, `null`, `Array`. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}
