import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { transpileFlags } from '../../../support/net';

const ROOT = path.resolve(__dirname, '../../../..');

/** Runs `body` in a fresh Node process with `logToStderr` in scope; its stderr and exit code. */
function run(body: string): { stderr: string; status: number | null } {
  const script = `const { logToStderr } = require(${JSON.stringify(path.join(ROOT, 'lib/transports/log/stderr.ts'))});\n${body}`;
  const child = spawnSync(process.execPath, [...transpileFlags, '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  return { stderr: child.stderr, status: child.status };
}

describe('transports/log/stderr', function () {
  this.timeout(30_000);

  it('writes every line, in order, including what is pending when the process exits at once', () => {
    const { stderr, status } = run(`
      for (let i = 0; i < 5000; i++) logToStderr('line ' + i);
      setImmediate(() => { for (let i = 5000; i < 10000; i++) logToStderr('line ' + i); process.exit(3); });
    `);
    expect(status).to.equal(3);
    expect(stderr.split('\n')).to.deep.equal([...Array.from({ length: 10_000 }, (_, i) => `line ${i}`), '']);
  });

  it('writes lines logged close together in one write, not one each', () => {
    const { stderr } = run(`
      const fs = require('node:fs');
      const write = fs.write;
      let writes = 0;
      fs.write = (...args) => { writes++; return write(...args); };
      for (let i = 0; i < 100; i++) logToStderr('line ' + i);
      setTimeout(() => logToStderr('later'), 5);
      setTimeout(() => { logToStderr('writes: ' + writes); }, 200);
    `);
    expect(stderr.trim().split('\n').at(-1)).to.equal('writes: 1');
  });

  it('drops and counts lines past a megabyte that stderr has not taken yet, rather than hold them', () => {
    const { stderr } = run(`
      const line = 'x'.repeat(1000);
      for (let i = 0; i < 3000; i++) logToStderr(line);
    `);
    const lines = stderr.trim().split('\n');
    expect(lines.length).to.be.lessThan(1100);
    expect(lines.at(-1)).to.match(/^\(\d+ log lines dropped: stderr was not keeping up\)$/);
  });
});
