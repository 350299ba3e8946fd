import { MonoTypeOperatorFunction } from 'rxjs';
import { ChainedSubscriber, operate } from './internal/operate';

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
    source.subscribe(new EmptyReadCloser(subscriber));
  });
}

// A class of its own: the default handler puts it on every connection.
class EmptyReadCloser extends ChainedSubscriber<Buffer> {
  protected onValue(chunk: Buffer): void {
    if (chunk.length > 0) this.destination.next(chunk);
    else this.destination.complete();
  }
}
