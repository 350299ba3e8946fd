import { expect } from 'chai';
import { InvalidOption } from 'rxwire';
import { lastValueFrom, map, mergeMap, of, range, tap, timer, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { mergeMapBounded } from 'rxwire';
import { expectHandler } from 'rxwire/testing';
import { upperBytes } from '../../../handlers/upper';

/** Slow work per chunk: 20 ms, then the chunk uppercased. */
const slowUpper = (chunk: Buffer) => timer(20).pipe(map(() => upperBytes(chunk)));

describe('mergeMapBounded', () => {
  it('emits what mergeMap emits, with at most `concurrency` projects running', () => {
    let running = 0;
    let most = 0;
    const project = (n: number) => {
      most = Math.max(most, ++running);
      return timer(5).pipe(map(() => n * 2), tap({ finalize: () => running-- }));
    };
    // In virtual time: three 5 ms jobs at a time, 20 jobs, so the last three finish at frame 35.
    new TestScheduler((actual, expected) => void expect(actual).to.deep.equal(expected)).run(({ expectObservable }) => {
      const doubled = Array.from({ length: 20 }, (_, i) => i * 2);
      expectObservable(range(0, 20).pipe(mergeMapBounded(project, 3), toArray())).toBe('35ms (a|)', { a: doubled });
    });
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

  it('holds reads while slow work is busy, where mergeMap would read everything', () => {
    // Two 20 ms jobs at a time: a new chunk is read only as a job finishes.
    expectHandler(mergeMapBounded(slowUpper, 2), 'abcdef|').toRead('ab 18ms cd 18ms ef 18ms |');
    expectHandler(mergeMapBounded(slowUpper, 2), 'abcdef|').toBe('20ms AB 18ms CD 18ms E(F|)');
    expectHandler(mergeMap(slowUpper, 2), 'abcdef|').toRead('abcdef|');
  });
});
