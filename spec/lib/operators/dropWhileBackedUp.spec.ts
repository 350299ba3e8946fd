import { expect } from 'chai';
import { interval, lastValueFrom, mergeMap, of, take, tap, toArray } from 'rxjs';
import { dropWhileBackedUp } from 'rxwire';
import { dial, eventually, startServer } from '../../support/net';

describe('dropWhileBackedUp', () => {
  it('passes every value outside a transport', async () => {
    expect(await lastValueFrom(of(1, 2, 3).pipe(dropWhileBackedUp(), toArray()))).to.deep.equal([1, 2, 3]);
  });

  it('drops output for a peer that does not read, instead of queueing it', async function () {
    this.timeout(20000);
    const chunk = Buffer.alloc(64 * 1024, 'z');
    let offered = 0;
    let passed = 0;
    let dropped = 0;
    // 4,000 × 64 KiB = 250 MiB offered, 10 chunks a tick, to a client that reads nothing.
    const firehose = () =>
      interval(1).pipe(
        take(400),
        mergeMap(() => Array.from({ length: 10 }, () => chunk)),
        tap(() => offered++),
        dropWhileBackedUp<Buffer>({ highWaterMark: 1 << 20, onDrop: (n) => (dropped = n) }),
        tap(() => passed++),
      );
    const server = await startServer(firehose);
    try {
      const socket = await dial({ port: server.port });
      socket.pause();
      await eventually(() => offered === 4000, 15000, 'the firehose to finish');
      expect(passed + dropped).to.equal(4000);
      // What passed sits in the kernel's loopback buffers (up to some 40 MiB here) and under the
      // 1 MiB mark: far from the 250 MiB a queue would hold.
      expect(passed * chunk.length).to.be.lessThan(64 << 20);
      socket.destroy();
    } finally {
      await server.close(0);
    }
  });
});
