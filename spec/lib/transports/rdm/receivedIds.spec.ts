import { expect } from 'chai';
import fc from 'fast-check';
import { ReceivedIds } from '../../../../lib/transports/rdm/receivedIds';

describe('ReceivedIds', () => {
  it('takes each id once, in any order, and tracks no more than its span', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 199 }), { maxLength: 600 }), (arrivals) => {
        const ids = new ReceivedIds(64);
        const taken: number[] = [];
        for (const id of arrivals) {
          if (ids.check(id) !== 'new') continue;
          ids.add(id);
          taken.push(id);
        }
        expect(new Set(taken).size).to.equal(taken.length);
        expect(ids.tracked).to.be.at.most(64);
      }),
    );
  });

  it('refuses an id past its span until the ones before it arrive, and wraps at 2^32', () => {
    const ids = new ReceivedIds(4);
    expect(ids.check(4)).to.equal('beyond');
    for (const id of [1, 2, 3, 0]) ids.add(id);
    expect(ids.tracked).to.equal(0);
    expect(ids.check(4)).to.equal('new');
    expect(ids.check(3)).to.equal('duplicate');

    const wrapping = new ReceivedIds(4);
    wrapping.reset();
    for (let id = 0; id < 3; id++) wrapping.add(id);
    expect(wrapping.check(0xffff_ffff)).to.equal('duplicate');
  });
});
