import { MonoTypeOperatorFunction, Unsubscribable } from 'rxjs';
import { InvalidOption } from '../core/errors';
import { Flow, flowOf, OutputWatcher } from '../core/flow';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';
import { createOperatorSubscriber, operate } from './internal/operate';

export interface BackpressureOptions {
  /** Hold reads once this many bytes of output wait to be flushed. Default: the connection's own (`serve({ highWaterMark })`, 64 KiB). */
  highWaterMark?: number;
  /** Read again once pending output is down to this. Default half the high-water mark. */
  lowWaterMark?: number;
}

const BackpressureOptions = strictOptions({}, { highWaterMark: wholeNumber(1), lowWaterMark: wholeNumber(0) });

/**
 * Node's rule for a slow reader, as an operator: while the connection's output waits to be
 * flushed past the high-water mark, stop reading from it; read again once it drains to the low one.
 * Outside a transport (over `of(...)`) it passes values through unchanged.
 *
 * ```ts
 * serve({ port: 50007 }, pipe(backpressure({ highWaterMark: 1 << 20 }), upper()));
 * ```
 */
export function backpressure(options: BackpressureOptions = {}): MonoTypeOperatorFunction<Buffer> {
  const opts = decodeOptions('backpressure', BackpressureOptions, options);
  if (opts.highWaterMark !== undefined && opts.lowWaterMark !== undefined && opts.lowWaterMark >= opts.highWaterMark) {
    throw new InvalidOption(`backpressure: lowWaterMark: expected less than highWaterMark (${opts.highWaterMark}), got ${opts.lowWaterMark}`);
  }
  return operate((source, subscriber) => {
    const flow = flowOf(subscriber, 'backpressure()');
    if (!flow) return source.subscribe(createOperatorSubscriber(subscriber));
    const high = opts.highWaterMark ?? flow.outputHighWaterMark;
    subscriber.add(new WaterMarks(flow, high, opts.lowWaterMark ?? Math.floor(high / 2)));
    // Values pass through untouched, so on a connection the source is subscribed with the
    // subscriber itself (a transport's sink or an operator's, each containing its own throws):
    // no subscriber of its own per connection.
    return source.subscribe(subscriber);
  });
}

/**
 * One backpressure()'s hold on its connection's reads, and the teardown that lets go of it. A
 * transport's connection tells it of output moving through `watchOutput` (one object per
 * connection where a listener, its stopper and a teardown closure were); another Flow, through
 * a listener.
 */
class WaterMarks implements OutputWatcher, Unsubscribable {
  private holding = false;
  private readonly stopListening: (() => void) | undefined;

  constructor(
    private readonly flow: Flow,
    private readonly high: number,
    private readonly low: number,
  ) {
    if (flow.watchOutput) flow.watchOutput(this);
    else this.stopListening = flow.onActivity((event) => event !== 'read' && this.outputMoved());
  }

  outputMoved(): void {
    const pending = this.flow.pendingOutput;
    if (!this.holding && pending > this.high) {
      this.holding = true;
      this.flow.holdReads(this);
    } else if (this.holding && pending <= this.low) {
      this.holding = false;
      this.flow.releaseReads(this);
    }
  }

  unsubscribe(): void {
    if (this.stopListening) this.stopListening();
    else this.flow.unwatchOutput?.(this);
    if (this.holding) this.flow.releaseReads(this);
  }
}
