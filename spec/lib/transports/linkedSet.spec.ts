import { expect } from 'chai';
import fc from 'fast-check';
import { Linked, LinkedSet } from '../../../lib/transports/linkedSet';

interface Conn extends Linked<Conn> {
  readonly id: number;
}

function conn(id: number): Conn {
  return { id, listPrev: undefined, listNext: undefined };
}

describe('LinkedSet (a server\'s open connections, its sockets waiting for a PROXY header)', () => {
  it('agrees with a Set over any run of adds, deletes and moves to the end: size, membership, the first added, and their order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('add', 'delete', 'moveLast'), fc.integer({ min: 0, max: 19 })), { maxLength: 300 }), (steps) => {
        const conns = Array.from({ length: 20 }, (_, id) => conn(id));
        const open = new LinkedSet<Conn>();
        const model = new Set<Conn>();
        for (const [op, id] of steps) {
          const c = conns[id]!;
          if (op === 'add') {
            open.add(c);
            model.add(c);
          } else if (op === 'delete') {
            expect(open.delete(c)).to.equal(model.delete(c));
          } else {
            const had = model.delete(c);
            if (had) model.add(c);
            expect(open.moveLast(c)).to.equal(had);
          }
          expect(open.size).to.equal(model.size);
          expect([...open]).to.deep.equal([...model]);
          expect(open.first).to.equal(model.values().next().value);
          for (const each of conns) expect(open.has(each)).to.equal(model.has(each));
        }
      }),
    );
  });

  it('adds a member that is in already no second time, and goes on past the member just given when it is deleted', () => {
    const [a, b, c] = [conn(1), conn(2), conn(3)];
    const set = new LinkedSet<Conn>();
    for (const each of [a, b, c, c, a]) set.add(each);
    expect(set.size).to.equal(3);
    const seen: Conn[] = [];
    for (const each of set) {
      seen.push(each);
      set.delete(each);
    }
    expect(seen).to.deep.equal([a, b, c]);
    expect(set.size).to.equal(0);
  });

  it('leaves a member taken out pointing at none of the others, nor they at it', () => {
    const [a, b, c] = [conn(1), conn(2), conn(3)];
    const open = new LinkedSet<Conn>();
    for (const each of [a, b, c]) open.add(each);
    open.delete(b);
    expect([b.listPrev, b.listNext]).to.deep.equal([undefined, undefined]);
    expect(a.listNext).to.equal(c);
    expect(c.listPrev).to.equal(a);
  });
});
