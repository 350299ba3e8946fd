import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOption } from 'rxwire';
import { record } from 'rxwire/testing';
import upper from '../../../handlers/upper';
import { isAlive, roundTrip, runProgram, startServer } from '../../support/net';

// A recording directory has a budget (files and bytes, what it held at the start included): once
// spent, recording stops with one line and connections are served on. A DIR that cannot hold
// files is refused before anything is made.

describe('record: the directory budget', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rxwire-budget-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Serves upper recorded into `dir` with `options`, and sends each of `messages` on a connection of its own. */
  async function serveRecorded(options: Parameters<typeof record>[1], messages: string[]): Promise<{ replies: string[]; logs: string[] }> {
    const logs: string[] = [];
    const server = await startServer(record(dir, { ...options, log: (line) => logs.push(line) })(upper), { log: false });
    try {
      const replies: string[] = [];
      for (const message of messages) replies.push((await roundTrip({ port: server.port }, Buffer.from(message))).toString());
      return { replies, logs };
    } finally {
      await server.close();
    }
  }

  it('stops making files at maxFiles, counting those already there, with one line; every connection is still served', async () => {
    writeFileSync(join(dir, 'kept.jsonl'), '{}\n');
    const { replies, logs } = await serveRecorded({ maxFiles: 3 }, ['a', 'b', 'c', 'd', 'e']);
    expect(replies).to.deep.equal(['A', 'B', 'C', 'D', 'E']);
    expect(readdirSync(dir)).to.have.length(3);
    expect(logs).to.deep.equal([`record: ${dir} holds 3 session files, the most it may hold: connections are no longer recorded`]);
  });

  it('stops writing at maxTotalBytes: the files together stay within it, one line says so', async () => {
    const big = 'x'.repeat(2000);
    const { replies, logs } = await serveRecorded({ maxTotalBytes: 8192 }, Array.from({ length: 8 }, () => big));
    expect(replies).to.deep.equal(Array.from({ length: 8 }, () => big.toUpperCase()));
    const total = readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
    expect(total).to.be.at.most(8192);
    expect(logs).to.have.length(1);
    expect(logs[0]).to.match(new RegExp(`^record: ${dir} holds \\d+ bytes of sessions, of at most 8192: connections are no longer recorded$`));
  });

  it('refuses a dir that is a file, or under one, or under /proc: an InvalidOption naming it', () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    expect(() => record(file)).to.throw(InvalidOption, `record: dir: ${file} is not a directory`);
    expect(() => record(join(file, 'sessions'))).to.throw(InvalidOption, `record: dir: ${join(file, 'sessions')}: ${file} is not a directory`);
    expect(() => record('/proc/rxwire-sessions')).to.throw(InvalidOption, "record: dir: /proc/rxwire-sessions: /proc is on proc, a filesystem of the kernel's, not one for files");
  });

  it('rxwire --record exits 2 with one line for a file, a path under one, and a dir under /proc', async () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    const cases: [string, string][] = [
      [file, `rxwire: --record: ${file} is not a directory`],
      [join(file, 'x'), `rxwire: --record: ${join(file, 'x')}: ${file} is not a directory`],
      ['/proc/rxwire-sessions', "rxwire: --record: /proc/rxwire-sessions: /proc is on proc, a filesystem of the kernel's, not one for files"],
    ];
    const programs = cases.map(([where]) => runProgram('lib/cli/rxwire.ts', ['--record', where, '--port', '0', '--host', '127.0.0.1']));
    try {
      for (const [i, program] of programs.entries()) {
        const code = await Promise.race([program.exit, new Promise((resolve) => setTimeout(resolve, 10_000, 'still running'))]);
        expect(code, cases[i]![0]).to.equal(2);
        expect(program.stderr).to.deep.equal([cases[i]![1]]);
      }
    } finally {
      for (const program of programs) if (isAlive(program.child.pid!)) program.child.kill('SIGKILL');
    }
  });
});
