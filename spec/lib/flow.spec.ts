import { expect } from 'chai';
import { defer, EMPTY, Observable, of } from 'rxjs';
import { currentFlow, Flow, subscribeWithFlow } from '../../lib/flow';

const flow: Flow = {
  pendingOutput: 0,
  outputHighWaterMark: 0,
  onActivity: () => () => {},
  holdReads: () => {},
  releaseReads: () => {},
};

describe('flow', () => {
  it('is there for operators while the transport subscribes, and only then', () => {
    const seen: (Flow | undefined)[] = [];
    const probe = defer(() => {
      seen.push(currentFlow());
      return EMPTY;
    });
    subscribeWithFlow(flow, probe, {});
    probe.subscribe();
    expect(seen).to.deep.equal([flow, undefined]);
  });

  it('is not there for subscriptions made later, from callbacks', async () => {
    let later: Flow | undefined | 'unset' = 'unset';
    const lateSubscriber = new Observable<never>(() => {
      setTimeout(() => defer(() => ((later = currentFlow()), of())).subscribe(), 0);
    });
    subscribeWithFlow(flow, lateSubscriber, {});
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(later).to.equal(undefined);
  });

  it('restores the outer flow when subscriptions nest', () => {
    const inner: Flow = { ...flow };
    const seen: (Flow | undefined)[] = [];
    const nested = defer(() => {
      subscribeWithFlow(inner, defer(() => (seen.push(currentFlow()), EMPTY)), {});
      seen.push(currentFlow());
      return EMPTY;
    });
    subscribeWithFlow(flow, nested, {});
    expect(seen).to.deep.equal([inner, flow]);
  });
});
