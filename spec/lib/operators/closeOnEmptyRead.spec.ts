import { expect } from 'chai';
import { lastValueFrom, of, Subject, toArray } from 'rxjs';
import { closeOnEmptyRead } from 'rxwire';

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
});
