import { asyncScheduler, MonoTypeOperatorFunction, SchedulerAction, SchedulerLike } from 'rxjs';
import { IdleTimeout } from '../core/errors';
import { flowOf, forwardsWritesTo } from '../core/flow';
import { decodeOptions, wholeNumber } from '../core/options';
import { createOperatorSubscriber, operate } from './internal/operate';

const Ms = wholeNumber(1);

/**
 * Errors with `IdleTimeout` once no bytes have moved either way for `ms`: nothing read, written
 * or flushed on the connection, and nothing passed through this operator. The server ends a
 * connection that times out gracefully, after flushing. The clock is `scheduler`'s, so the
 * timeout follows virtual time in `TestScheduler.run` and in `rxwire/testing`.
 *
 * ```ts
 * serve({ port: 50007 }, pipe(idleTimeout(30_000), upper()));
 * ```
 */
export function idleTimeout<T>(ms: number, scheduler: SchedulerLike = asyncScheduler): MonoTypeOperatorFunction<T> {
  decodeOptions('idleTimeout: ms', Ms, ms);
  return operate((source, subscriber) => {
    // Activity only notes the time; the one timer re-arms itself for the rest when it fires
    // early, so a busy connection costs no timer work per read.
    let lastActivity = scheduler.now();
    const touch = () => {
      lastActivity = scheduler.now();
    };
    subscriber.add(
      scheduler.schedule(function (this: SchedulerAction<undefined>) {
        const idle = scheduler.now() - lastActivity;
        if (idle >= ms) subscriber.error(new IdleTimeout(ms));
        else this.schedule(undefined, ms - idle);
      }, ms),
    );
    const stopWatching = flowOf(subscriber, 'idleTimeout()')?.onActivity(touch);
    if (stopWatching) subscriber.add(stopWatching);
    // Hands every value on unchanged, noting the time first.
    const touching = createOperatorSubscriber(subscriber, (value: T) => {
      touch();
      subscriber.next(value);
    });
    source.subscribe(forwardsWritesTo(touching, subscriber));
  });
}
