import { expect } from 'chai';
import { interval, map, merge, NEVER, Observable, pipe, reduce, take } from 'rxjs';
import { idleTimeout, IdleTimeout, InvalidOption } from 'rxwire';
import { expectHandler } from 'rxwire/testing';
import { upper, upperBytes } from '../../../handlers/upper';
import { delay, dial, readAll, startServer } from '../../support/net';

describe('idleTimeout', () => {
  it('errors with IdleTimeout once nothing has passed for ms', () => {
    expectHandler(idleTimeout(100), '').toBe('100ms #', {}, new IdleTimeout(100));
  });

  it('starts the clock again with every value', () => {
    expectHandler(idleTimeout(100), 'a 79ms b 79ms c').toBe('a 79ms b 79ms c 99ms #', {}, new IdleTimeout(100));
    expectHandler(idleTimeout(100), 'a 98ms b 98ms c|').toBe('a 98ms b 98ms c|');
  });

  it('refuses a timeout that is not positive', () => {
    expect(() => idleTimeout(0)).to.throw(InvalidOption, 'idleTimeout: ms: expected a whole number ≥ 1, got 0');
  });

  it('counts output still being written as activity on a connection', () => {
    // Input is silent and no value passes the timeout; the handler writes a byte every 50 ms for
    // 600 ms, three times the timeout, and the connection ends 200 ms after the last.
    const talker = () => merge(NEVER.pipe(idleTimeout<Buffer>(200)), interval(50).pipe(take(12), map(() => Buffer.from('.'))));
    expectHandler(talker, '').toBe(`50ms ${'a 49ms '.repeat(11)}a 199ms #`, { a: '.' });
  });

  it('counts the peer reading pending output as activity', () => {
    // One write, never more; the peer reads it only at frame 80, which starts the clock again.
    const once = pipe(idleTimeout<Buffer>(100), upper());
    expectHandler(once, 'a', {}, { peerReads: '80ms r' }).toBe('A 179ms #', { A: 'A' });
    expectHandler(once, 'a', {}, { peerReads: false }).toBe('A 99ms #', { A: 'A' });
  });

  it('counts bytes read as activity even when nothing reaches the operator yet', () => {
    // The handler answers only at the end, so nothing passes idleTimeout until then: the reads
    // alone, every 100 ms, keep a 200 ms timeout from firing.
    const atTheEnd = (input: Observable<Buffer>) =>
      input.pipe(reduce((all, chunk) => Buffer.concat([all, chunk]), Buffer.alloc(0)), map(upperBytes), idleTimeout(200));
    expectHandler(atTheEnd, 'a 99ms b 99ms c 99ms d|').toBe('301ms (x|)', { x: 'ABCD' });
    expectHandler(atTheEnd, 'a 99ms b 299ms c').toBe('300ms #');
  });

  it('counts bytes read from a socket as activity, over a real connection', async function () {
    this.timeout(20000);
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
