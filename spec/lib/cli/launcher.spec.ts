import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { parseStat } from '../../../lib/cli/launcher';
import { collectLines, eventually, isAlive, root, transpileFlags } from '../../support/net';

// What a server program takes for the process that started it, and that it notices when that
// process is killed with SIGKILL: over real processes, a stand-in for npm running the probe
// through `sh -c`, as npx and `npm start` do.
describe('the launcher watch', function () {
  this.timeout(30_000);
  const probe = [process.execPath, ...transpileFlags, path.join(root, 'spec/support/launcherProbe.ts')].map((arg) => `'${arg}'`).join(' ');

  /** A stand-in for npm, in a process group of its own: runs the probe through `sh -c` (`; true` keeps the shell from exec-ing it) and waits. */
  function underNpm(env: NodeJS.ProcessEnv) {
    const npm = spawn(process.execPath, ['-e', `require('node:child_process').spawn('sh', ['-c', process.argv[1] + '; true'], { stdio: 'inherit' }); setInterval(() => {}, 1000);`, probe], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const lines: string[] = [];
    collectLines(npm.stdout!, lines);
    collectLines(npm.stderr!, lines);
    return { npm, lines };
  }

  const stop = (group: number) => isAlive(-group) && process.kill(-group, 'SIGKILL');

  it('under npm, watches the shell npm ran it through, and says gone once npm is killed outright', async () => {
    const { npm, lines } = underNpm({ ...process.env, npm_lifecycle_event: 'start' });
    try {
      await eventually(() => lines.some((line) => line.startsWith('launcher ')), 10_000, 'the probe to start');
      const launcher = JSON.parse(lines.find((line) => line.startsWith('launcher '))!.slice('launcher '.length)) as { parent: number; shellParent?: number };
      expect(launcher.shellParent).to.equal(npm.pid);
      expect(lines).to.not.include('gone');
      process.kill(npm.pid!, 'SIGKILL');
      await eventually(() => lines.includes('gone'), 5000, 'the probe to say its launcher is gone');
    } finally {
      stop(npm.pid!);
    }
  });

  it('outside npm, watches its own parent only: the shell, which outlives npm', async () => {
    const env = { ...process.env };
    delete env.npm_lifecycle_event;
    const { npm, lines } = underNpm(env);
    try {
      await eventually(() => lines.some((line) => line.startsWith('launcher ')), 10_000, 'the probe to start');
      expect(lines.find((line) => line.startsWith('launcher '))).to.not.include('shellParent');
      process.kill(npm.pid!, 'SIGKILL');
      // Three checks of the watch: the shell is still its parent, so nothing is said.
      await new Promise((resolve) => setTimeout(resolve, 1600));
      expect(lines).to.not.include('gone');
    } finally {
      stop(npm.pid!);
    }
  });

  it('reads a command that holds spaces and parentheses from /proc/PID/stat', () => {
    expect(parseStat('4242 (sh) S 4241 4242 302 0 -1')).to.deep.equal({ command: 'sh', parent: 4241 });
    expect(parseStat('4242 (my (odd) cmd) S 17 4242')).to.deep.equal({ command: 'my (odd) cmd', parent: 17 });
    expect(parseStat('4242 (sh) S')).to.equal(undefined);
    expect(parseStat('')).to.equal(undefined);
  });
});
