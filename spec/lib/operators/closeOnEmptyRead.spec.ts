import { expect } from 'chai';
import { lastValueFrom, Observable, of, Subject, Subscriber, toArray } from 'rxjs';
import { closeOnEmptyRead, Flow } from 'rxwire';
import { subscribeWithFlow } from '../../../lib/operators/internal/operate';

describe('closeOnEmptyRead', () => {
  it('ends the input at the first empty read, dropping what follows', async () => {
    const reads = of(Buffer.from('a'), Buffer.from('b'), Buffer.alloc(0), Buffer.from('after'));
    const seen = await lastValueFrom(reads.pipe(closeOnEmptyRead(), toArray()));
    expect(seen.map(String)).to.deep.equal(['a', 'b']);
  });

  it('unsubscribes from the source when it ends, like closing the socket', () => {
    const source = new Subject<Buffer>();
    const seen: string[] = [];
    let completed = false;
    source.pipe(closeOnEmptyRead()).subscribe({ next: (b) => seen.push(String(b)), complete: () => (completed = true) });
    source.next(Buffer.from('x'));
    source.next(Buffer.alloc(0));
    expect(completed).to.equal(true);
    expect(source.observed).to.equal(false);
    expect(seen).to.deep.equal(['x']);
  });

  it('passes every non-empty read through when there is no empty one', async () => {
    const seen = await lastValueFrom(of(Buffer.from('a'), Buffer.from('b')).pipe(closeOnEmptyRead(), toArray()));
    expect(seen.map(String)).to.deep.equal(['a', 'b']);
  });

  describe('under a connection', () => {
    const flow = (readsNeverEmpty: boolean): Flow => ({
      pendingOutput: 0,
      outputHighWaterMark: 1024,
      readsNeverEmpty,
      onActivity: () => () => {},
      onClose: () => () => {},
      reserve: () => true,
      holdReads: () => {},
      releaseReads: () => {},
    });

    it('costs a stream connection, whose reads are never empty, no subscriber of its own', () => {
      let reader: Subscriber<Buffer> | undefined;
      const reads = new Observable<Buffer>((subscriber) => void (reader = subscriber));
      const sink = subscribeWithFlow(flow(true), reads.pipe(closeOnEmptyRead()), { next: () => {}, error: () => {}, complete: () => {} });
      expect(reader).to.equal(sink);
    });

    it('ends at an empty read on a connection whose reads may be empty (a datagram peer\'s)', () => {
      let reader: Subscriber<Buffer> | undefined;
      const seen: string[] = [];
      let completed = false;
      const reads = new Observable<Buffer>((subscriber) => void (reader = subscriber));
      const sink = subscribeWithFlow(flow(false), reads.pipe(closeOnEmptyRead()), { next: (b) => seen.push(String(b)), error: () => {}, complete: () => (completed = true) });
      expect(reader).to.not.equal(sink);
      reader!.next(Buffer.from('a'));
      reader!.next(Buffer.alloc(0));
      expect(seen).to.deep.equal(['a']);
      expect(completed).to.equal(true);
    });
  });
});
