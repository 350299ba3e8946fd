import { MonoTypeOperatorFunction, Observable } from 'rxjs';
import { IdleTimeout } from '../errors';
import { currentFlow } from '../flow';

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
  if (!(ms > 0)) throw new RangeError(`idleTimeout: ms must be > 0, got ${ms}`);
  return (source) =>
    new Observable<T>((subscriber) => {
      const timer = setTimeout(() => subscriber.error(new IdleTimeout(ms)), ms);
      const stopWatching = currentFlow()?.onActivity(() => timer.refresh());
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
