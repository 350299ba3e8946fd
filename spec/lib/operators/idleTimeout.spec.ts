import { expect } from 'chai';
import { InvalidOption } from 'rxwire';
import { interval, merge, lastValueFrom, map, NEVER, Observable, reduce, take, toArray } from 'rxjs';
import { idleTimeout, IdleTimeout } from 'rxwire';
import { upperBytes } from '../../../handlers/upper';
import { closed, delay, dial, readAll, startServer } from '../../support/net';

describe('idleTimeout', () => {
  it('errors with IdleTimeout once nothing has passed for ms', async () => {
    const started = Date.now();
    await lastValueFrom(NEVER.pipe(idleTimeout(100))).then(
      () => expect.fail('completed'),
      (err: unknown) => {
        expect(err).to.be.instanceOf(IdleTimeout);
        expect((err as IdleTimeout).message).to.equal('idle for 100 ms');
      },
    );
    expect(Date.now() - started).to.be.within(90, 500);
  });

  it('starts the clock again with every value', async () => {
    const values = await lastValueFrom(interval(40).pipe(take(6), idleTimeout(100), toArray()));
    expect(values).to.deep.equal([0, 1, 2, 3, 4, 5]);
  });

  it('refuses a timeout that is not positive', () => {
    expect(() => idleTimeout(0)).to.throw(InvalidOption, 'idleTimeout: ms: expected a whole number ≥ 1, got 0');
  });

  it('counts output still being written as activity on a connection', async function () {
    this.timeout(20000);
    // Input is silent and no value passes the timeout; the handler writes a byte every 50 ms for
    // 600 ms, three times the timeout, and the connection stays until 200 ms after the last.
    const talker = () =>
      merge(NEVER.pipe(idleTimeout<Buffer>(200)), interval(50).pipe(take(12), map(() => Buffer.from('.'))));
    const server = await startServer(talker);
    try {
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      await closed(socket);
      expect((await reply).toString()).to.equal('.'.repeat(12));
    } finally {
      await server.close();
    }
  });

  it('counts bytes read as activity even when nothing reaches the operator yet', async function () {
    this.timeout(20000);
    // The handler answers only at the end, so nothing passes idleTimeout until then: the reads
    // alone, every 100 ms, keep a 200 ms timeout from firing.
    const atTheEnd = (input: Observable<Buffer>) =>
      input.pipe(reduce((all, chunk) => Buffer.concat([all, chunk]), Buffer.alloc(0)), map(upperBytes), idleTimeout(200));
    const server = await startServer(atTheEnd);
    try {
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      for (const letter of 'abcdef') {
        socket.write(letter);
        await delay(100);
      }
      socket.end();
      expect((await reply).toString()).to.equal('ABCDEF');
    } finally {
      await server.close();
    }
  });
});
