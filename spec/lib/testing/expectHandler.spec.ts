import { expect } from 'chai';
import { AssertionError } from 'node:assert';
import { interval, map, mergeMap, NEVER, Observable, pipe } from 'rxjs';
import { backpressure, encodeLines, flowOf, idleTimeout, IdleTimeout, InvalidOption, lines } from 'rxwire';
import { expectHandler, expectReplay } from 'rxwire/testing';
import { upper, upperBytes } from '../../../handlers/upper';

const shout = (line: Buffer) => `${line.toString('utf8').toUpperCase()}!`;
const KiB = 1024;

function messageOf(check: () => void): string {
  try {
    check();
  } catch (error) {
    expect(error).to.be.instanceOf(AssertionError);
    return (error as Error).message;
  }
  return expect.fail('the expectation held') as never;
}

describe('expectHandler', () => {
  it('runs the README examples: a line split over two reads, and an idle timeout at frame 1000', () => {
    expectHandler(pipe(lines(), map(shout), encodeLines()), '-a-b-|', { a: 'hel', b: 'lo\n' }).toBe('---x-|', { x: 'HELLO!\n' });
    expectHandler(pipe(idleTimeout(1000), upper()), 'a 1500ms b|', { a: 'x', b: 'y' }).toBe('A 999ms #', { A: 'X' }, new IdleTimeout(1000));
  });

  it('shows both timelines as text on a mismatch, the first differing frame marked', () => {
    const message = messageOf(() =>
      expectHandler(pipe(lines(), map(shout), encodeLines()), '-a-b-|', { a: 'hel', b: 'lo\n' }).toBe('---x-|', { x: 'HELLO?\n' }),
    );
    expect(message).to.equal(
      [
        'the output differs from what was expected, first at frame 3',
        'expected:',
        '  ▶ frame 3     next "HELLO?\\n"',
        '    frame 5     complete',
        'actual:',
        '  ▶ frame 3     next "HELLO!\\n"',
        '    frame 5     complete',
      ].join('\n'),
    );
  });

  it('shows bytes that are not printable text in hex, and an error by class, code and message', () => {
    const message = messageOf(() => expectHandler(pipe(idleTimeout(10), map(() => Buffer.from([0, 0xff, 0x41]))), 'a').toBe('x', { x: 'A' }));
    expect(message).to.include('  ▶ frame 0     next "\\x00\\xffA"\n    frame 10    error IdleTimeout [ERR_IDLE_TIMEOUT]: idle for 10 ms');
    expect(message).to.include('actual:');
  });

  it('marks where one timeline goes on after the other has stopped', () => {
    const message = messageOf(() => expectHandler(upper(), 'ab').toBe('A'));
    expect(message).to.include('expected:\n    frame 0     next "A"\n  ▶ (nothing more)\nactual:\n    frame 0     next "A"\n  ▶ frame 1     next "B"');
  });

  it('takes marbles as TestScheduler.run does: groups, time progression, letters standing for themselves', () => {
    expectHandler(upper(), '(ab) 98ms c 1s (d|)').toBe('(AB) 98ms C 1s (D|)');
    expectHandler(upper(), 'a-b', { a: Buffer.from('é'), b: 'ü' }).toBe('x-y', { x: 'é', y: 'ü' });
  });

  it('counts writes in one frame as one, as a peer reading a stream sees them', () => {
    const twice = (input: Observable<Buffer>) => input.pipe(mergeMap((chunk) => [chunk, upperBytes(chunk)]));
    expectHandler(twice, 'a 9ms |').toBe('x 9ms |', { x: 'aA' });
    expectHandler(twice, 'a 9ms |').toBe('(xy) 6ms |', { x: 'a', y: 'A' });
  });

  it('matches any error for # unless one is given, and a given one by class, code and message', () => {
    expectHandler(idleTimeout(5), '').toBe('5ms #');
    const message = messageOf(() => expectHandler(idleTimeout(5), '').toBe('5ms #', {}, new IdleTimeout(6)));
    expect(message).to.include('▶ frame 5     error IdleTimeout [ERR_IDLE_TIMEOUT]: idle for 6 ms');
  });

  it('fails the input with a reset for # in the input diagram', () => {
    expectHandler(upper(), 'a-#').toBe('A-#', {}, Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  });

  it('tells the handler its connection, and gives its operators a Flow', () => {
    const whoAndHow = (input: Observable<Buffer>, conn: { remote: string }) =>
      new Observable<Buffer>((subscriber) => {
        const flow = flowOf(subscriber, 'spec');
        subscriber.next(Buffer.from(`${conn.remote} ${flow?.outputHighWaterMark}`));
        return input.subscribe(subscriber);
      });
    expectHandler(whoAndHow, '-|', {}, { connection: { remote: '10.0.0.1:1' }, highWaterMark: 100 }).toBe('x|', { x: '10.0.0.1:1 100' });
  });

  it('stops a handler that never ends after maxFrames past the last scripted frame', () => {
    expectHandler(() => interval(1000).pipe(map(() => Buffer.from('.'))), '', {}, { maxFrames: 500 }).toBe('1s a 999ms a 999ms a', { a: '.' });
    expectHandler(() => NEVER, '').toBe('');
  });

  it('refuses a handler that is no function, unknown or bad options and values, in one InvalidOption line', () => {
    const refused = (check: () => void, line: string) => expect(check).to.throw(InvalidOption, line);
    refused(() => expectHandler(upper(), 'a|', {}, { peerReeds: true } as never), 'expectHandler: unknown option "peerReeds" (did you mean "peerReads"?)');
    refused(() => expectHandler(upper(), 'a|', {}, { connection: { remot: 'x' } } as never), 'expectHandler: connection: unknown option "remot" (did you mean "remote"?)');
    refused(() => expectHandler(upper(), 'a|', {}, { highWaterMark: -1 }), 'expectHandler: highWaterMark: expected a whole number ≥ 1, got -1');
    refused(() => expectHandler(upper(), 'a|', {}, { maxFrames: 'x' } as never), 'expectHandler: maxFrames: expected a whole number ≥ 0, got "x"');
    refused(() => expectHandler({ default: upper() } as never, 'a|'), "expectHandler: handler: expected a handler function, got a module object: pass its default export (require('…').default)");
    refused(() => expectHandler(upper(), 'a|', { a: 5 } as never), 'expectHandler: values: a: expected text or bytes (a string, Buffer or Uint8Array), got 5');
    refused(() => expectHandler(upper(), 'a|').toBe('a|', { a: 5 } as never), 'toBe: values: a: expected text or bytes (a string, Buffer or Uint8Array), got 5');
    refused(() => expectReplay(upper(), 'never-read.jsonl', { peerReeds: true } as never), 'expectReplay: unknown option "peerReeds" (did you mean "peerReads"?)');
    refused(() => expectHandler((async () => NEVER) as never, 'a|'), 'expectHandler: handler: expected a handler function, got an async function');
    // Every option it documents is taken.
    const options = { peerReads: '-r', peerReadSizes: { r: 1 }, highWaterMark: 1, connection: { id: 7, remote: 'peer' }, inputError: new Error('x'), maxFrames: 100 };
    expectHandler(upper(), 'a|', { a: 'x' }, options).toBe('a|', { a: 'X' });
    expectHandler(upper(), 'a|', { a: 'x' }, { peerReads: false, maxFrames: 0, peerReadSizes: { r: Infinity }, connection: { transport: 'unix', local: 'unix:/x' } }).toBe('a|', { a: 'X' });
  });

  it('tells a handler that returns a Promise as the server does: the connection fails saying so', () => {
    const said = 'the handler must return an Observable, got a Promise: a handler returns an Observable, not a Promise (from(promise), or defer(async () => …))';
    expectHandler(() => Promise.resolve(NEVER) as never, 'a|').toBe('#', {}, new TypeError(said));
  });

  describe('flow in virtual time', () => {
    const big = 'x'.repeat(200 * KiB);

    it('while 200 KiB wait unflushed, the input is not read', () => {
      const handler = pipe(backpressure(), upper());
      expectHandler(handler, 'a-b-c|', { a: big }, { peerReads: false }).toBe('A', { A: big.toUpperCase() });
      expectHandler(handler, 'a-b-c|', { a: big }, { peerReads: false }).toRead('a', { a: big });
    });

    it('reads again once the peer has read the output, at the frame it reads', () => {
      const handler = pipe(backpressure(), upper());
      expectHandler(handler, 'a-b-c|', { a: big }, { peerReads: '------r' }).toBe('A-----(BC|)', { A: big.toUpperCase() });
      expectHandler(handler, 'a-b-c|', { a: big }, { peerReads: '------r' }).toRead('a-----(bc|)', { a: big });
    });

    it('reads in steps as the peer reads a part at a time: down to the low-water mark, not before', () => {
      const handler = pipe(backpressure({ highWaterMark: 100 * KiB, lowWaterMark: 50 * KiB }), upper());
      const options = { peerReads: '-r-s', peerReadSizes: { r: 100 * KiB, s: 60 * KiB } };
      // 200 KiB pending: reading 100 KiB leaves 100, over the low mark; 60 more leaves 40, under it.
      expectHandler(handler, 'ab|', { a: big }, options).toRead('a--(b|)', { a: big });
    });
  });
});
