import { expect } from 'chai';
import { InvalidOption } from 'rxwire';
import { lastValueFrom, map, mergeMap, of, OperatorFunction, pipe, range, tap, timer, toArray } from 'rxjs';
import { mergeMapBounded } from 'rxwire';
import { upperBytes } from '../../../handlers/upper';
import { delay, dial, startServer } from '../../support/net';

const MB = 1024 * 1024;

/** Slow work per chunk: 20 ms, then the chunk uppercased. */
const slowUpper = (chunk: Buffer) => timer(20).pipe(map(() => upperBytes(chunk)));

async function bytesReadWhileFlooded(work: OperatorFunction<Buffer, Buffer>): Promise<number> {
  const counter = { read: 0 };
  const server = await startServer(pipe(tap((chunk: Buffer) => (counter.read += chunk.length)), work));
  try {
    const socket = await dial({ port: server.port });
    const piece = Buffer.alloc(MB, 'x');
    for (let i = 0; i < 64; i++) socket.write(piece);
    await delay(1500);
    socket.destroy();
    return counter.read;
  } finally {
    await server.close(0);
  }
}

describe('mergeMapBounded', () => {
  it('emits what mergeMap emits, with at most `concurrency` projects running', async () => {
    let running = 0;
    let most = 0;
    const project = (n: number) => {
      most = Math.max(most, ++running);
      return timer(5).pipe(map(() => n * 2), tap({ finalize: () => running-- }));
    };
    const values = await lastValueFrom(range(0, 20).pipe(mergeMapBounded(project, 3), toArray()));
    expect(values.sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(most).to.equal(3);
  });

  it('passes errors from a project on', async () => {
    const failing = of(1, 2).pipe(mergeMapBounded(() => Promise.reject(new Error('no')), 2));
    await lastValueFrom(failing).then(
      () => expect.fail('completed'),
      (err: Error) => expect(err.message).to.equal('no'),
    );
  });

  it('refuses a concurrency that is not a whole number ≥ 1', () => {
    expect(() => mergeMapBounded(() => of(1), 0)).to.throw(InvalidOption, 'mergeMapBounded: concurrency: expected a whole number ≥ 1, got 0');
  });

  it('holds reads while slow work is busy, where mergeMap would read everything', async function () {
    this.timeout(30000);
    const bounded = await bytesReadWhileFlooded(mergeMapBounded(slowUpper, 2));
    const unbounded = await bytesReadWhileFlooded(mergeMap(slowUpper, 2));
    // 1.5 s of 20 ms jobs, two at a time, is ~150 reads of at most 64 KiB each.
    expect(bounded).to.be.lessThan(12 * MB);
    expect(unbounded).to.equal(64 * MB);
  });
});
