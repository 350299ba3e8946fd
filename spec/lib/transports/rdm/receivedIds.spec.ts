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
    wrapping.startAt(0xffff_fffe);
    for (const id of [0xffff_fffe, 0xffff_ffff, 0]) wrapping.add(id);
    expect(wrapping.check(0xffff_ffff)).to.equal('duplicate');
    expect(wrapping.check(1)).to.equal('new');
    expect(wrapping.check(5)).to.equal('beyond');
  });

  it('forgets the ids before a floor the sender advances, and ignores a floor behind its own', () => {
    const ids = new ReceivedIds(8);
    ids.startAt(0x8000_0005);
    ids.add(0x8000_0007);
    ids.advance(0x8000_0006);
    expect(ids.check(0x8000_0005)).to.equal('duplicate');
    expect(ids.check(0x8000_0006)).to.equal('new');
    expect(ids.tracked).to.equal(1);
    ids.advance(0x8000_0008);
    expect(ids.tracked).to.equal(0);
    ids.advance(0x8000_0001);
    expect(ids.check(0x8000_0008)).to.equal('new');
  });
});
