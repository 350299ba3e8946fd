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

  it('forgets the same ids whichever way an advance goes, the ids passed or the ids tracked, across the wrap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffff_ffff }),
        fc.array(fc.oneof(fc.record({ add: fc.integer({ min: 0, max: 40 }) }), fc.record({ advance: fc.integer({ min: 0, max: 40 }) })), { maxLength: 200 }),
        (start, steps) => {
          const ids = new ReceivedIds(32);
          ids.startAt(start);
          // The model: every id before `floor` taken, and the set of those taken past it.
          let floor = start;
          const above = new Set<number>();
          for (const step of steps) {
            if ('add' in step) {
              const id = (floor + step.add) >>> 0;
              const expected = above.has(id) ? 'duplicate' : step.add >= 32 ? 'beyond' : 'new';
              expect(ids.check(id)).to.equal(expected);
              if (expected !== 'new') continue;
              ids.add(id);
              above.add(id);
            } else {
              ids.advance((floor + step.advance) >>> 0);
              floor = (floor + step.advance) >>> 0;
              for (const id of [...above]) if (((id - floor) >>> 0) >= 0x8000_0000) above.delete(id);
            }
            while (above.delete(floor)) floor = (floor + 1) >>> 0;
            expect(ids.tracked).to.equal(above.size);
            expect(ids.check((floor - 1) >>> 0)).to.equal('duplicate');
          }
        },
      ),
    );
  });

  it('moves its floor one id at a time past a full window without walking the ids it tracks', () => {
    const ids = new ReceivedIds(8192);
    // Every other id of the window's upper half, the floor's own never sent.
    for (let id = 4097; id < 8192; id += 2) ids.add(id);
    expect(ids.tracked).to.equal(2048);
    // A peer's lever: each datagram advancing the floor by one, below those.
    const iterate = Set.prototype[Symbol.iterator];
    let walks = 0;
    Set.prototype[Symbol.iterator] = function (this: Set<unknown>) {
      walks++;
      return iterate.call(this);
    };
    try {
      for (let floor = 1; floor <= 1000; floor++) ids.advance(floor);
    } finally {
      Set.prototype[Symbol.iterator] = iterate;
    }
    expect(walks).to.equal(0);
    expect(ids.tracked).to.equal(2048);
    expect(ids.check(999)).to.equal('duplicate');
    expect(ids.check(1000)).to.equal('new');
  });
});
