import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AssertionError } from 'node:assert';
import { expectReplay } from 'rxwire/testing';
import upper from '../../../handlers/upper';
import { eventually, portOf, root, roundTrip, runProgram, startProgram } from '../../support/net';

// The command from source, through ts-node; spec/package.spec.ts runs it installed, through npx.
describe('the rxwire command', function () {
  this.timeout(30000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rxwire-cli-'));
    writeFileSync(
      path.join(dir, 'exclaim.ts'),
      `import { map, pipe } from 'rxjs';
       import { backpressure, closeOnEmptyRead } from 'rxwire';
       export default pipe(backpressure(), closeOnEmptyRead(), map((chunk: Buffer) => Buffer.concat([chunk, Buffer.from('!')])));`,
    );
    writeFileSync(path.join(dir, 'wrong.ts'), 'export default 42;');
    writeFileSync(path.join(dir, 'broken.ts'), 'export default (;\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

  it('serves the upper handler by default, with the server flags, logging each connection with an ISO timestamp', async () => {
    const server = await startProgram('lib/cli/rxwire.ts', ['--port=0', '--host', '127.0.0.1']);
    try {
      expect(server.stdout).to.deep.equal([`listening on ${server.address}`]);
      expect((await roundTrip({ port: portOf(server.address) }, Buffer.from('abc'))).toString()).to.equal('ABC');
      await eventually(() => server.stderr.some((l) => / #1 closed /.test(l)), 5000, 'the close line');
      expect(server.stderr.filter((l) => l.includes(' #1 '))).to.have.length(2).and.satisfy((lines: string[]) => lines.every((l) => iso.test(l)));
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it("serves a user's handler module given by path", async () => {
    const server = await startProgram('lib/cli/rxwire.ts', ['--handler', path.join(dir, 'exclaim.ts'), '--port', '0', '--host', '127.0.0.1']);
    try {
      expect((await roundTrip({ port: portOf(server.address) }, Buffer.from('yes'))).toString()).to.equal('yes!');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('-q drops the per-connection lines; -v adds the handler and the options', async () => {
    const quiet = await startProgram('lib/cli/rxwire.ts', ['-q', '--port', '0', '--host', '127.0.0.1']);
    const verbose = await startProgram('lib/cli/rxwire.ts', ['-v', '--handler', 'echo', '--port', '0', '--host', '127.0.0.1']);
    try {
      for (const server of [quiet, verbose]) await roundTrip({ port: portOf(server.address) }, Buffer.from('x'));
      await eventually(() => verbose.stderr.some((l) => / #1 closed /.test(l)), 5000, 'the close line');
      expect(quiet.stderr).to.deep.equal([]);
      expect(verbose.stderr[0]).to.match(iso).and.match(/ handler: echo$/);
      expect(verbose.stderr[1]).to.match(iso).and.match(/ serving with \{"host":"127\.0\.0\.1","port":0,.*"graceMs":5000.*\}$/);
    } finally {
      quiet.child.kill('SIGKILL');
      verbose.child.kill('SIGKILL');
    }
  });

  it('-h and --help print usage, examples and exit codes; --version the version; both exit 0', async () => {
    for (const flag of ['-h', '--help']) {
      const program = runProgram('lib/cli/rxwire.ts', [flag]);
      expect(await program.exit).to.equal(0);
      const text = program.stdout.join('\n');
      expect(text).to.match(/^usage: rxwire \[flags\]/).and.include('--handler NAME|PATH').and.include('-q, --quiet');
      expect(text).to.include('examples:').and.include('exit codes:').and.include('2  a bad flag');
    }
    const version = runProgram('lib/cli/rxwire.ts', ['--version']);
    expect(await version.exit).to.equal(0);
    expect(version.stdout).to.deep.equal([JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version]);
  });

  it('refuses a module whose default export is not a handler: one line, exit 2', async () => {
    const program = runProgram('lib/cli/rxwire.ts', ['--handler', path.join(dir, 'wrong.ts'), '--port', '0']);
    expect(await program.exit).to.equal(2);
    expect(program.stderr).to.deep.equal([`rxwire: ${path.join(dir, 'wrong.ts')}: default export must be a handler function, got number`]);
  });

  it('names FILE:LINE:COL of a module that does not compile: one line, exit 2', async () => {
    const program = runProgram('lib/cli/rxwire.ts', ['--handler', path.join(dir, 'broken.ts'), '--port', '0']);
    expect(await program.exit).to.equal(2);
    expect(program.stderr).to.have.length(1);
    expect(program.stderr[0]).to.match(new RegExp(`^rxwire: ${path.join(dir, 'broken.ts')}:1:\\d+: \\S`));
  });

  it('refuses --workers for the redis handler, whose keys live in one process: one line, exit 2', async () => {
    const program = runProgram('lib/cli/rxwire.ts', ['--handler', 'redis', '--workers', '2', '--port', '0']);
    expect(await program.exit).to.equal(2);
    expect(program.stderr).to.deep.equal(['rxwire: --workers: cannot serve redis from several processes: the redis handler keeps its keys in the memory of one process']);
  });

  it('serves the redis handler by name: an inline PING is answered as Redis answers it', async () => {
    const server = await startProgram('lib/cli/rxwire.ts', ['--handler', 'redis', '--port=0', '--host', '127.0.0.1', '-q']);
    try {
      expect((await roundTrip({ port: portOf(server.address) }, Buffer.from('PING\r\nECHO hi\r\n'))).toString()).to.equal('+PONG\r\n$2\r\nhi\r\n');
    } finally {
      server.child.kill('SIGTERM');
      await server.exit;
    }
  });

  it('exits 2 naming a bad server flag, as examples/upper.ts does', async () => {
    const program = runProgram('lib/cli/rxwire.ts', ['--port', '70000']);
    expect(await program.exit).to.equal(2);
    expect(program.stderr).to.deep.equal(['rxwire: --port: expected a whole number from 0 to 65535, got "70000"']);
  });

  it('records each connection with --record DIR, and expectReplay passes the default handler on the file', async () => {
    const sessions = path.join(dir, 'sessions');
    const server = await startProgram('lib/cli/rxwire.ts', ['--record', sessions, '--port', '0', '--host', '127.0.0.1']);
    try {
      expect((await roundTrip({ port: portOf(server.address) }, Buffer.from('hello '), Buffer.from('world'))).toString()).to.equal('HELLO WORLD');
      const file = () => path.join(sessions, readdirSync(sessions)[0]!);
      await eventually(() => readdirSync(sessions).length === 1 && readFileSync(file(), 'utf8').includes('"out-end"'), 5000, 'the session file');
      expectReplay(upper, file());
      writeFileSync(file(), readFileSync(file(), 'utf8').replace(/"event":"out","data":"[^"]*"/, `"event":"out","data":"${Buffer.from('HELLO').toString('base64')}"`));
      expect(() => expectReplay(upper, file())).to.throw(AssertionError, 'differently than recorded');
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
