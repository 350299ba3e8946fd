import { MonoTypeOperatorFunction } from 'rxjs';
import { InvalidOption } from '../core/errors';
import { FlowEvent, flowOf } from '../core/flow';
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
    const low = opts.lowWaterMark ?? Math.floor(high / 2);
    let holding = false;
    // The listener holds reads itself: no other object per connection.
    const onActivity = (event: FlowEvent) => {
      if (event === 'read') return;
      const pending = flow.pendingOutput;
      if (!holding && pending > high) {
        holding = true;
        flow.holdReads(onActivity);
      } else if (holding && pending <= low) {
        holding = false;
        flow.releaseReads(onActivity);
      }
    };
    const stopWatching = flow.onActivity(onActivity);
    subscriber.add(() => {
      stopWatching();
      if (holding) flow.releaseReads(onActivity);
    });
    return source.subscribe(createOperatorSubscriber(subscriber));
  });
}
