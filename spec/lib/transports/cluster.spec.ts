import { expect } from 'chai';
import * as fc from 'fast-check';
import { ClusteredServeOptions, DEFAULTS, InvalidOption, serveClustered } from 'rxwire';
import { restartDelay } from '../../../lib/transports/stream/cluster';

// Workers serving for real are specced through the command (spec/lib/cli/workers.spec.ts): a
// cluster forks the program it runs in, which here would be mocha.
describe('serveClustered', () => {
  const handler = () => {
    throw new Error('never served here');
  };

  const refusal = (options: ClusteredServeOptions) => serveClustered(options, handler).then(() => expect.fail('served'), (err: unknown) => err);

  it('refuses bad options in one line naming the key, before any worker starts', async () => {
    const refused: [ClusteredServeOptions, string][] = [
      [{ workers: 0 }, 'serveClustered: workers: expected a whole number from 1 to 1024 or "auto", got 0'],
      [{ workers: 'all' as never }, 'serveClustered: workers: expected a whole number from 1 to 1024 or "auto", got "all"'],
      [{ workers: 2, port: 70000 }, 'serveClustered: port: expected a whole number from 0 to 65535, got 70000'],
      [{ workers: 2, worker: 1 } as never, 'serveClustered: unknown option "worker" (did you mean "workers"?)'],
      [{ workers: 2, path: '/tmp/x.sock' }, 'serveClustered: path: a Unix socket cannot be shared by workers; serve() it from one process'],
    ];
    for (const [options, message] of refused) {
      const err = await refusal(options);
      expect(err).to.be.instanceOf(InvalidOption);
      expect((err as Error).message).to.equal(message);
    }
  });
});

describe('restartDelay', () => {
  it('waits 100 ms the first time, then twice as long each time the worker dies young, up to 10 s', () => {
    const waits: number[] = [];
    for (let previous = 0, i = 0; i < 10; i++) waits.push((previous = restartDelay(previous, 50)));
    expect(waits).to.deep.equal([100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
  });

  it('starts again from the first wait once a worker has lived a while', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: DEFAULTS.workerMaxRestartMs }), fc.integer({ min: DEFAULTS.workerStableMs, max: 1e9 }), (previous, lived) => {
        expect(restartDelay(previous, lived)).to.equal(DEFAULTS.workerRestartMs);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: DEFAULTS.workerMaxRestartMs }), fc.integer({ min: 0, max: DEFAULTS.workerStableMs - 1 }), (previous, lived) => {
        const wait = restartDelay(previous, lived);
        expect(wait).to.be.at.most(DEFAULTS.workerMaxRestartMs).and.at.least(Math.min(previous * 2, DEFAULTS.workerMaxRestartMs));
      }),
    );
  });
});
