import { expect } from 'chai';
import * as net from 'node:net';
import { eventually, isAlive, listening, portOf, runProgram } from '../../../support/net';

// serveClustered() closes as the other servers do: on its signal's abort, and at the end of an
// `await using` block; every worker then exits, and so does the primary, with nothing left listening.

/** Whether connecting to 127.0.0.1:`port` is refused. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

describe('serveClustered(), ended from outside', function () {
  this.timeout(60_000);

  for (const mode of ['abort', 'using'] as const) {
    it(mode === 'abort' ? 'closes when its signal aborts: the workers and the primary exit 0, the port refuses' : 'closes at the end of an `await using` block', async () => {
      const program = await listening(runProgram('spec/support/clusteredLifetime.ts', [mode]), 30_000);
      try {
        const code = await Promise.race([program.exit, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000))]);
        expect(code, program.stderr.join('\n')).to.equal(0);
        await eventually(() => !isAlive(-program.child.pid!), 5_000, 'every worker to exit');
        expect(await refused(portOf(program.address))).to.equal(true);
        if (mode === 'using') expect(program.stdout).to.include('closed');
      } finally {
        if (isAlive(-program.child.pid!)) process.kill(-program.child.pid!, 'SIGKILL');
      }
    });
  }
});
