import { MonoTypeOperatorFunction, Observable } from 'rxjs';
import { currentFlow } from '../flow';

export interface DropWhileBackedUpOptions {
  /** Drop while more than this many bytes of output wait to be flushed. Default: the connection's own. */
  highWaterMark?: number;
  /** Told each time a value is dropped, with how many have been so far. */
  onDrop?: (dropped: number) => void;
}

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
  return (source) =>
    new Observable<T>((subscriber) => {
      const flow = currentFlow();
      if (!flow) return source.subscribe(subscriber);
      const high = options.highWaterMark ?? flow.outputHighWaterMark;
      let dropped = 0;
      return source.subscribe({
        next: (value) => {
          if (flow.pendingOutput <= high) return subscriber.next(value);
          options.onDrop?.(++dropped);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
