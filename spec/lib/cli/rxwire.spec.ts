import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AssertionError } from 'node:assert';
import { expectReplay } from 'rxwire/testing';
import upper from '../../../handlers/upper';
import { eventually, listening, portOf, roundTrip, runCommand, runProgram, startProgram } from '../../support/net';

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
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the upper handler by default, with the server flags', async () => {
    const server = await startProgram('lib/cli/rxwire.ts', ['--port', '0', '--host', '127.0.0.1']);
    try {
      expect(server.stdout).to.deep.equal([`listening on ${server.address}`]);
      expect((await roundTrip({ port: portOf(server.address) }, Buffer.from('abc'))).toString()).to.equal('ABC');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it("serves a user's handler module given by path, as `npx rxwire --handler FILE` does", async () => {
    const npx = await listening(runCommand('npx', ['rxwire', '--handler', path.join(dir, 'exclaim.ts'), '--port', '0', '--host', '127.0.0.1']));
    try {
      expect((await roundTrip({ port: portOf(npx.address) }, Buffer.from('yes'))).toString()).to.equal('yes!');
    } finally {
      // npx does not pass signals on to the command it runs: stop the whole group.
      process.kill(-npx.child.pid!, 'SIGTERM');
      await npx.exit;
    }
  });

  it('refuses a module whose default export is not a handler: one line, exit 2', async () => {
    const program = runProgram('lib/cli/rxwire.ts', ['--handler', path.join(dir, 'wrong.ts'), '--port', '0']);
    expect(await program.exit).to.equal(2);
    expect(program.stderr).to.deep.equal([`rxwire: ${path.join(dir, 'wrong.ts')}: default export must be a handler function, got number`]);
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
