import { expect } from 'chai';
import fc from 'fast-check';
import { Listed, OpenConnections } from '../../../lib/transports/openConnections';

interface Conn extends Listed<Conn> {
  readonly id: number;
}

function conn(id: number): Conn {
  return { id, openPrev: undefined, openNext: undefined, closeCause: undefined };
}

describe('OpenConnections (a server\'s open connections)', () => {
  it('agrees with a Set over any run of opens and closes: size, membership, and the order they opened', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 19 })), { maxLength: 300 }), (steps) => {
        const conns = Array.from({ length: 20 }, (_, id) => conn(id));
        const open = new OpenConnections<Conn>();
        const model = new Set<Conn>();
        for (const [adding, id] of steps) {
          const c = conns[id]!;
          if (adding && !model.has(c)) {
            open.add(c);
            model.add(c);
          } else if (!adding) {
            expect(open.delete(c)).to.equal(model.delete(c));
          }
          expect(open.size).to.equal(model.size);
          expect([...open]).to.deep.equal([...model]);
          for (const each of conns) expect(open.has(each)).to.equal(model.has(each));
        }
      }),
    );
  });

  it('leaves a closed connection pointing at none of the others, nor they at it', () => {
    const [a, b, c] = [conn(1), conn(2), conn(3)];
    const open = new OpenConnections<Conn>();
    for (const each of [a, b, c]) open.add(each);
    open.delete(b);
    expect([b.openPrev, b.openNext]).to.deep.equal([undefined, undefined]);
    expect(a.openNext).to.equal(c);
    expect(c.openPrev).to.equal(a);
  });
});
