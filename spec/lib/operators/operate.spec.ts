import { expect } from 'chai';
import { NEVER, Subscriber } from 'rxjs';
import { createOperatorSubscriber, operate, subscribeWithFlow } from '../../../lib/operators/internal/operate';
import { Flow } from 'rxwire';

describe("operate()'s subscribers", () => {
  /** An operator that adds `count` teardowns to its own subscriber, each noting its name into `ran`. */
  const addingTeardowns = (name: string, count: number, ran: string[]) =>
    operate<Buffer, Buffer>((source, subscriber) => {
      const own = createOperatorSubscriber(subscriber);
      for (let i = 0; i < count; i++) own.add(() => ran.push(`${name}${i}`));
      source.subscribe(own);
    });

  it('run every teardown added to them, past the finalizer slots they make room for, and only their own', () => {
    const ran: string[] = [];
    const first = NEVER.pipe(addingTeardowns('a', 5, ran)).subscribe();
    const second = NEVER.pipe(addingTeardowns('b', 1, ran)).subscribe();
    first.unsubscribe();
    expect(ran).to.deep.equal(['a0', 'a1', 'a2', 'a3', 'a4']);
    second.unsubscribe();
    expect(ran).to.deep.equal(['a0', 'a1', 'a2', 'a3', 'a4', 'b0']);
  });

  it('leave their downstream subscriber (whose finalizers they make room in) running every teardown added to it', () => {
    const ran: string[] = [];
    const subscription = NEVER.pipe(addingTeardowns('a', 1, ran)).subscribe();
    for (let i = 0; i < 3; i++) subscription.add(() => ran.push(`down${i}`));
    subscription.unsubscribe();
    expect(ran).to.deep.equal(['a0', 'down0', 'down1', 'down2']);
  });

  it("and a transport's sink, run every teardown added to it when the pipeline is unsubscribed", () => {
    const ran: string[] = [];
    const flow: Flow = {
      pendingOutput: 0,
      outputHighWaterMark: 1,
      onActivity: () => () => {},
      onClose: () => () => {},
      reserve: () => true,
      holdReads: () => {},
      releaseReads: () => {},
    };
    const sink = subscribeWithFlow(flow, NEVER, { next: () => {}, error: () => {}, complete: () => {} }) as Subscriber<never>;
    for (let i = 0; i < 3; i++) sink.add(() => ran.push(`sink${i}`));
    sink.unsubscribe();
    expect(ran).to.deep.equal(['sink0', 'sink1', 'sink2']);
  });

  it("make their room in RxJS's own finalizer array, so that an RxJS that renames it fails here rather than silently costing the bytes again", () => {
    const own = createOperatorSubscriber(new Subscriber<Buffer>());
    expect((own as unknown as { _finalizers: unknown })._finalizers).to.be.an('array');
  });
});
