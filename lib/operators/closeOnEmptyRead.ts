import { MonoTypeOperatorFunction } from 'rxjs';
import { createOperatorSubscriber, operate } from './internal/operate';

/**
 * Ends the input at the first empty read, the way the seed's `if not data: break` does. Stream
 * transports already complete at EOF; this covers sources where an empty read *is* the end, such
 * as a zero-length datagram from a UDP peer.
 *
 * ```ts
 * serve({ port: 50007 }, pipe(closeOnEmptyRead(), upper()));
 * ```
 */
export function closeOnEmptyRead(): MonoTypeOperatorFunction<Buffer> {
  return operate((source, subscriber) => {
    source.subscribe(createOperatorSubscriber(subscriber, (chunk: Buffer) => (chunk.length > 0 ? subscriber.next(chunk) : subscriber.complete())));
  });
}
