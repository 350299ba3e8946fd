import { expect } from 'chai';
import fc from 'fast-check';
import { ChunkQueue } from '../../../lib/codecs/chunkQueue';

describe('ChunkQueue', () => {
  it('takes bytes inside one chunk as a view of it, without copying', () => {
    const chunk = Buffer.from('hello world');
    const queue = new ChunkQueue();
    queue.push(chunk);
    queue.take(6);
    const taken = queue.take(5);
    expect(taken.toString()).to.equal('world');
    expect(taken.buffer).to.equal(chunk.buffer);
    expect(taken.byteOffset).to.equal(chunk.byteOffset + 6);
    expect(queue.length).to.equal(0);
  });

  it('settles small views of large allocations into its own buffer, so 1-byte reads cannot keep 64 KiB each alive', () => {
    const queue = new ChunkQueue();
    const reads: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      const read = Buffer.allocUnsafeSlow(64 * 1024).subarray(0, 1); // what a 1-byte socket read looks like
      read[0] = i & 0xff;
      reads.push(read);
      queue.push(read);
      queue.settle(); // as a decoder does after each step
    }
    const held = new Set<ArrayBufferLike>();
    const taken = queue.takeAll();
    expect(taken).to.deep.equal(Buffer.concat(reads));
    for (const read of reads) held.add(read.buffer);
    expect(held.has(taken.buffer)).to.equal(false);
  });

  it('gives the same bytes as slicing everything pushed, for any pushes and takes', () => {
    const step = fc.oneof(
      fc.record({ push: fc.uint8Array({ maxLength: 8 }) }),
      fc.record({ pushSmallView: fc.uint8Array({ maxLength: 8 }) }),
      fc.constant({ settle: true }),
      fc.record({ take: fc.nat({ max: 20 }) }),
      fc.record({ last: fc.nat({ max: 4 }) }),
    );
    fc.assert(
      fc.property(fc.array(step), (steps) => {
        const queue = new ChunkQueue();
        let model = Buffer.alloc(0);
        for (const s of steps) {
          if ('push' in s) {
            queue.push(Buffer.from(s.push)); // a view on Buffer's shared pool: copied
            model = Buffer.concat([model, s.push]);
          } else if ('pushSmallView' in s) {
            const read = Buffer.allocUnsafeSlow(1024).subarray(0, s.pushSmallView.length);
            read.set(s.pushSmallView);
            queue.push(read);
            model = Buffer.concat([model, s.pushSmallView]);
          } else if ('settle' in s) {
            queue.settle();
          } else if ('take' in s) {
            const count = Math.min(s.take, model.length);
            expect(queue.take(count)).to.deep.equal(model.subarray(0, count));
            model = model.subarray(count);
          } else {
            const count = Math.min(s.last, model.length);
            expect(queue.lastBytes(count)).to.deep.equal(model.subarray(model.length - count));
          }
          expect(queue.length).to.equal(model.length);
        }
        expect(queue.takeAll()).to.deep.equal(model);
      }),
    );
  });
});
