import { Observable, Observer, Operator, OperatorFunction, Subscriber, Subscription, TeardownLogic } from 'rxjs';
import { Flow, subscribeUnder } from '../../core/flow';

/**
 * The one way rxwire builds an operator, after RxJS's own `operate` (src/internal/util/lift.ts):
 * `init` runs once per subscription with the source and the downstream subscriber, and subscribes
 * to the source with `createOperatorSubscriber(subscriber, …)`. A throw in `init` errors the
 * subscription instead of escaping to whoever subscribed.
 *
 * ```ts
 * export function skipEmpty(): MonoTypeOperatorFunction<Buffer> {
 *   return operate((source, subscriber) => {
 *     source.subscribe(createOperatorSubscriber(subscriber, (chunk) => chunk.length > 0 && subscriber.next(chunk)));
 *   });
 * }
 * ```
 */
export function operate<T, R>(init: (source: Observable<T>, subscriber: Subscriber<R>) => TeardownLogic): OperatorFunction<T, R> {
  // One Operator per operator made, each pipeline's Observable lifted with it as RxJS lifts its
  // own: a server builds its handler's operators once, and each connection then costs one
  // Observable per operator, no closure over its source.
  const operator: Operator<T, R> = {
    call(subscriber: Subscriber<R>, source: Observable<T>): TeardownLogic {
      try {
        return init(source, subscriber);
      } catch (err) {
        subscriber.error(err);
        return undefined;
      }
    },
  };
  return (source) => source.lift(operator);
}

/**
 * A subscriber for an operator's source, after RxJS's `createOperatorSubscriber`
 * (src/internal/operators/OperatorSubscriber.ts), with two promises every rxwire operator needs:
 *
 * - it is chained to `destination` (its `destination`, and added to it), so `flowOf()` walks from
 *   any operator upstream through it to the connection, however late that operator subscribes;
 * - a throw from `onNext`, or from passing a value on when there is none (the operator's code,
 *   or a faulty subscriber below it), errors this subscriber, so the operator's own `onError`
 *   runs and the error goes down to its connection, rather than up into whoever called `next`
 *   (another connection's read, when the source is shared) or out of the process. A throw from
 *   `onError` or `onComplete` goes to `destination`'s error.
 *
 * A callback not given passes its notification on to `destination` unchanged.
 */
export function createOperatorSubscriber<T>(
  // The downstream type is erased here, as in RxJS.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  destination: Subscriber<any> | Observer<any>,
  onNext?: (value: T) => void,
  onComplete?: () => void,
  onError?: (err: unknown) => void,
  onFinalize?: () => void,
): Subscriber<T> {
  return new OperatorSubscriber(destination, onNext, onComplete, onError, onFinalize);
}

/**
 * `createOperatorSubscriber`'s promises (chained to `destination`, a throw from `onValue` errors
 * it) as a class to extend: for an operator on every connection of a common handler
 * (`closeOnEmptyRead`), where a closure and its context per subscription are ~120 B an idle
 * connection holds. Every rxwire subscriber is one, and makes room for its finalizers and its
 * destination's (`makeRoomForFinalizers`).
 */
export abstract class ChainedSubscriber<T> extends Subscriber<T> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(destination?: Subscriber<any> | Observer<any>) {
    // Subscriber's constructor adds this to `destination`'s finalizers (an RxJS operator's too).
    if (destination instanceof Subscriber) makeRoomForFinalizers(destination);
    super(destination);
    makeRoomForFinalizers(this);
  }

  /** What `next` does; a throw errors this subscriber. */
  protected abstract onValue(value: T): void;

  protected _next(value: T): void {
    try {
      this.onValue(value);
    } catch (err) {
      this.error(err);
    }
  }
}

/**
 * Gives `subscriber`, unless it has them or is closed, finalizers with room for two: RxJS makes
 * them `[]` at the first add(), which grows to 17 slots, ~130 B an idle connection holds for each
 * link of its pipeline, where most hold one or two (their upstream's subscription, an operator's
 * teardown such as backpressure's).
 */
function makeRoomForFinalizers(subscriber: Subscriber<unknown>): void {
  const held = subscriber as unknown as { _finalizers: unknown[] | null };
  if (held._finalizers !== null || subscriber.closed) return;
  const finalizers: unknown[] = [undefined, undefined];
  while (finalizers.length > 0) finalizers.pop(); // empty, its two slots kept (`length = 0` frees them)
  held._finalizers = finalizers;
}

class OperatorSubscriber<T> extends ChainedSubscriber<T> {
  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    destination: Subscriber<any> | Observer<any>,
    private readonly onNext: ((value: T) => void) | undefined,
    private readonly onComplete: (() => void) | undefined,
    private readonly onError: ((err: unknown) => void) | undefined,
    private readonly onFinalize: (() => void) | undefined,
  ) {
    super(destination);
  }

  protected onValue(value: T): void {
    const onNext = this.onNext;
    if (onNext === undefined) this.destination.next(value);
    else onNext(value);
  }

  protected _error(err: unknown): void {
    const onError = this.onError;
    if (onError === undefined) return super._error(err);
    try {
      onError(err);
    } catch (thrown) {
      this.destination.error(thrown);
    } finally {
      this.unsubscribe();
    }
  }

  protected _complete(): void {
    const onComplete = this.onComplete;
    if (onComplete === undefined) return super._complete();
    try {
      onComplete();
    } catch (thrown) {
      this.destination.error(thrown);
    } finally {
      this.unsubscribe();
    }
  }

  unsubscribe(): void {
    const { closed } = this;
    super.unsubscribe();
    if (!closed) this.onFinalize?.();
  }
}

/**
 * For transports: subscribes a connection's pipeline with a sink built as every operator's
 * subscriber is, so that its operators find `flow` (`flowOf`), and a throw in `observer` (the
 * transport's own code) ends this connection through `observer.error`, never the process.
 */
export function subscribeWithFlow<T>(flow: Flow, source: Observable<T>, observer: Observer<T>): Subscription {
  return subscribeUnder(flow, source, new ObserverSink(observer));
}

/**
 * An OperatorSubscriber whose callbacks are `observer`'s own methods, called on it: one object
 * per connection where three closures over `observer` were.
 */
class ObserverSink<T> extends ChainedSubscriber<T> {
  constructor(private readonly observer: Observer<T>) {
    super();
  }

  protected onValue(value: T): void {
    this.observer.next(value);
  }

  protected _error(err: unknown): void {
    try {
      this.observer.error(err);
    } catch (thrown) {
      this.observer.error(thrown);
    } finally {
      this.unsubscribe();
    }
  }

  protected _complete(): void {
    try {
      this.observer.complete();
    } catch (thrown) {
      this.observer.error(thrown);
    } finally {
      this.unsubscribe();
    }
  }
}
