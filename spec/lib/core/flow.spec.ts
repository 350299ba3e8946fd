import { expect } from 'chai';
import { defer, EMPTY, mergeMap, NEVER, Observable, of, share, Subject, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { FlowUnavailable } from '../../../lib/core/errors';
import { Flow, flowOf } from '../../../lib/core/flow';
import { subscribeWithFlow } from '../../../lib/operators/internal/operate';

/** A Flow that only records: enough to see which connection an operator found. */
function testFlow(name: string): Flow & { name: string; close(): void; closeListeners(): number } {
  const closers = new Set<() => void>();
  return {
    name,
    pendingOutput: 0,
    outputHighWaterMark: 0,
    onActivity: () => () => {},
    onClose: (listener) => (closers.add(listener), () => closers.delete(listener)),
    reserve: () => true,
    holdReads: () => {},
    releaseReads: () => {},
    close: () => [...closers].forEach((listener) => listener()),
    closeListeners: () => closers.size,
  };
}

const ignore = { next: () => {}, error: () => {}, complete: () => {} };

/** An operator that records the flow it finds when subscribed. */
function probe(seen: (Flow | undefined)[]) {
  return <T>(source: Observable<T>) =>
    new Observable<T>((subscriber) => {
      seen.push(flowOf(subscriber, 'probe()'));
      return source.subscribe(subscriber);
    });
}

describe('flow', () => {
  it('is found by operators in the pipeline a transport subscribes, and not outside one', () => {
    const flow = testFlow('a');
    const seen: (Flow | undefined)[] = [];
    subscribeWithFlow(flow, EMPTY.pipe(probe(seen)), ignore);
    EMPTY.pipe(probe(seen)).subscribe();
    expect(seen).to.deep.equal([flow, undefined]);
  });

  it('is found by an operator subscribed later, inside a mergeMap', () => {
    const flow = testFlow('a');
    const seen: (Flow | undefined)[] = [];
    new TestScheduler((actual, expected) => void expect(actual).to.deep.equal(expected)).run(({ flush }) => {
      subscribeWithFlow(flow, timer(5).pipe(mergeMap(() => of(1).pipe(probe(seen)))), ignore);
      flush();
    });
    expect(seen).to.deep.equal([flow]);
  });

  it("is each connection's own when pipelines nest", () => {
    const outer = testFlow('outer');
    const inner = testFlow('inner');
    const seen: (Flow | undefined)[] = [];
    const nested = defer(() => {
      subscribeWithFlow(inner, EMPTY.pipe(probe(seen)), ignore);
      return EMPTY;
    }).pipe(probe(seen));
    subscribeWithFlow(outer, nested, ignore);
    expect(seen).to.deep.equal([outer, inner]);
  });

  it("works per connection for a share() inside one connection's pipeline", () => {
    const flow = testFlow('a');
    const seen: (Flow | undefined)[] = [];
    const handler = (input: Observable<number>) => {
      const shared = input.pipe(probe(seen), share());
      return shared;
    };
    subscribeWithFlow(flow, handler(NEVER), ignore);
    flow.close(); // the transport unsubscribed the pipeline first in real life; here nothing outlives it
    expect(seen).to.deep.equal([flow]);
  });

  it('fails loudly when shared across connections outlives the one it found', () => {
    const first = testFlow('first');
    const second = testFlow('second');
    const room = new Subject<number>().pipe(probe([]), share());
    const errors: unknown[] = [];
    const firstSubscription = subscribeWithFlow(first, room, ignore);
    subscribeWithFlow(second, room, { ...ignore, error: (err) => errors.push(err) });
    firstSubscription.unsubscribe();
    first.close();
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(FlowUnavailable);
    expect((errors[0] as Error).message).to.match(/^probe\(\): the connection it was subscribed for has closed while it still runs/);
  });

  it('lets go of the connection once unsubscribed: no close listener is left on it', () => {
    const flow = testFlow('a');
    const subscription = subscribeWithFlow(flow, NEVER.pipe(probe([]), share()), ignore);
    expect(flow.closeListeners()).to.equal(1);
    subscription.unsubscribe();
    expect(flow.closeListeners()).to.equal(0);
  });
});
