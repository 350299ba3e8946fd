import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { root, transpileFlags } from '../support/net';

function ping(...args: string[]) {
  return spawnSync(process.execPath, [...transpileFlags, path.join(root, 'examples', 'ping.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 20_000 });
}

describe('examples/ping.ts', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`prints three replies from ${host} and the summary, and exits 0`, function () {
      if (process.getuid?.() !== 0) this.skip(); // raw sockets need root or CAP_NET_RAW; CI runs as root
      const run = ping(host, '--count', '3', '--interval-ms', '50');
      const lines = run.stdout.trim().split('\n');
      expect(lines).to.have.length(4);
      lines.slice(0, 3).forEach((line, i) => expect(line).to.match(new RegExp(`^64 bytes from ${host.replace(/\./g, '\\.')}: icmp_seq=${i + 1} time=\\d+\\.\\d{3} ms$`)));
      expect(lines[3]).to.equal('3 packets transmitted, 3 received, 0% packet loss');
      expect(run.status).to.equal(0);
    });
  }

  it('refuses a bad flag in one line, exit 2', () => {
    const run = ping('127.0.0.1', '--count', 'zero');
    expect(run.stderr).to.equal('ping: --count: expected a whole number from 1 to 65535, got "zero"\n');
    expect(run.status).to.equal(2);
  });
});
