import * as t from 'io-ts';
import { MonoTypeOperatorFunction } from 'rxjs';
import { flowOf } from '../core/flow';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';
import { createOperatorSubscriber, operate } from './internal/operate';

export interface DropWhileBackedUpOptions {
  /** Drop while more than this many bytes of output wait to be flushed. Default: the connection's own. */
  highWaterMark?: number;
  /** Told each time a value is dropped, with how many have been so far. */
  onDrop?: (dropped: number) => void;
}

const DropWhileBackedUpOptions = strictOptions({}, { highWaterMark: wholeNumber(1), onDrop: t.Function });

/**
 * For output the connection may miss but must not hoard, such as a chat room's or a ticker's:
 * while the peer reads too slowly for its pending output to stay under the high-water mark, values
 * are dropped instead of queued. A slow reader then costs the server a bounded buffer, and stalls
 * no one else. Outside a transport it passes every value.
 *
 * ```ts
 * room.pipe(dropWhileBackedUp(), encodeLines())
 * ```
 */
export function dropWhileBackedUp<T>(options: DropWhileBackedUpOptions = {}): MonoTypeOperatorFunction<T> {
  decodeOptions('dropWhileBackedUp', DropWhileBackedUpOptions, options);
  return operate((source, subscriber) => {
    const flow = flowOf(subscriber, 'dropWhileBackedUp()');
    if (!flow) return source.subscribe(createOperatorSubscriber(subscriber));
    const high = options.highWaterMark ?? flow.outputHighWaterMark;
    let dropped = 0;
    // A throwing onDrop errors this connection, through the operator subscriber.
    return source.subscribe(
      createOperatorSubscriber(subscriber, (value: T) => {
        if (flow.pendingOutput <= high) return subscriber.next(value);
        options.onDrop?.(++dropped);
      }),
    );
  });
}
