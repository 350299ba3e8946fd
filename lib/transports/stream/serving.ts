import { Observer, Subscription } from 'rxjs';
import { IdleTimeout } from '../../core/errors';
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
 * One pipeline `serve` sends: its observer, and what hears of the socket failing or closing.
 * `failed` or `done` is told once; the pipeline is unsubscribed then. `failed` is given the
 * connection, so that a server passes one function for all its connections. While it runs, the
 * server's idle limit watches it.
 */
export class Serving<C extends ServedConnection> implements Observer<Buffer>, Watched {
  subscription: Subscription | undefined;
  settled = false;
  idlePrev: Watched | undefined = undefined;
  idleNext: Watched | undefined = undefined;
  idleTick = 0;

  constructor(
    private readonly conn: C,
    private readonly failed: (err: unknown, conn: C) => void,
    private readonly done: (() => void) | undefined,
    private readonly idle: IdleWatch | undefined,
  ) {
    idle?.watch(this);
  }

  /** Bytes moved on the connection. */
  touch(): void {
    this.idle?.touch(this);
  }

  idleExpired(): void {
    this.error(new IdleTimeout(this.idle!.ms));
  }

  next(chunk: Buffer): void {
    // Checked here, since handlers are the user's code: anything else ends only this connection.
    if (Buffer.isBuffer(chunk)) this.conn.writeOutput(chunk);
    else this.error(new TypeError(`emitted ${kindOf(chunk)}, expected Buffer`));
  }

  error(err: unknown): void {
    if (this.settled) return;
    this.settle();
    // The replies to what was read before the failure go out first (a handler that throws on
    // the second line of a read still answers the first), then the connection ends.
    this.conn.sendHeldAnswer();
    this.failed(err, this.conn);
  }

  complete(): void {
    this.conn.end(() => this.finish());
  }

  /** The output is complete and flushed, or the socket has closed. */
  finish(): void {
    if (this.settled) return;
    this.settle();
    this.done?.();
  }

  settle(): void {
    this.settled = true;
    this.idle?.unwatch(this);
    this.subscription?.unsubscribe();
  }
}

/** What a handler emitted instead of a Buffer, for its error line: `number`, `string`, `null`, `Array`. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return (value as object).constructor?.name ?? 'object';
}
