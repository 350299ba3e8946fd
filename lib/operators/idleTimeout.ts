import { MonoTypeOperatorFunction, Observable } from 'rxjs';
import { IdleTimeout } from '../core/errors';
import { flowOf } from '../core/flow';
import { decodeOptions, wholeNumber } from '../core/options';

const Ms = wholeNumber(1);

/**
 * Errors with `IdleTimeout` once no bytes have moved either way for `ms`: nothing read, written
 * or flushed on the connection, and nothing passed through this operator. The server ends a
 * connection that times out gracefully, after flushing.
 *
 * ```ts
 * serve({ port: 50007 }, pipe(idleTimeout(30_000), upper()));
 * ```
 */
export function idleTimeout<T>(ms: number): MonoTypeOperatorFunction<T> {
  decodeOptions('idleTimeout: ms', Ms, ms);
  return (source) =>
    new Observable<T>((subscriber) => {
      const timer = setTimeout(() => subscriber.error(new IdleTimeout(ms)), ms);
      const stopWatching = flowOf(subscriber, 'idleTimeout()')?.onActivity(() => timer.refresh());
      const subscription = source.subscribe({
        next: (value) => {
          timer.refresh();
          subscriber.next(value);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => {
        clearTimeout(timer);
        stopWatching?.();
        subscription.unsubscribe();
      };
    });
}
