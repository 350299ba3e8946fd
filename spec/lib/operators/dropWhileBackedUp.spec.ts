import { expect } from 'chai';
import { interval, lastValueFrom, map, of, take, toArray } from 'rxjs';
import { dropWhileBackedUp } from 'rxwire';
import { expectHandler } from 'rxwire/testing';

const KiB = 1024;

describe('dropWhileBackedUp', () => {
  it('passes every value outside a transport', async () => {
    expect(await lastValueFrom(of(1, 2, 3).pipe(dropWhileBackedUp(), toArray()))).to.deep.equal([1, 2, 3]);
  });

  it('drops output for a peer that does not read, instead of queueing it, and passes it again once the peer reads', () => {
    const chunk = 'z'.repeat(64 * KiB);
    const dropped: number[] = [];
    // A 64 KiB chunk a frame for 10 frames; 128 KiB may wait. The peer reads everything at frame 5.
    const firehose = () =>
      interval(1).pipe(
        take(10),
        map(() => Buffer.from(chunk)),
        dropWhileBackedUp<Buffer>({ highWaterMark: 128 * KiB, onDrop: (n) => dropped.push(n) }),
      );
    // Frames 1–3 pass (0, 64 and 128 KiB were waiting), 4 is dropped; after the read at 5, 5–7 pass, 8–10 are dropped.
    expectHandler(firehose, '', {}, { peerReads: '5ms r' }).toBe('-zzz-zzz--|', { z: chunk });
    expect(dropped).to.deep.equal([1, 2, 3, 4]);
  });

  it("drops past the connection's own high-water mark when given none", () => {
    const firehose = () => interval(1).pipe(take(4), map(() => Buffer.alloc(100)), dropWhileBackedUp<Buffer>());
    expectHandler(firehose, '', {}, { peerReads: false, highWaterMark: 150 }).toBe('-zz-|', { z: Buffer.alloc(100) });
  });
});
