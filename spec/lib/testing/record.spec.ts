import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AssertionError } from 'node:assert';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catchError, map, of, pipe } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { idleTimeout, InvalidOption } from 'rxwire';
import { expectReplay, InvalidRecording, record, replay } from 'rxwire/testing';
import upper, { upperBytes } from '../../../handlers/upper';
import { closed, delay, dial, eventually, readAll, startServer } from '../../support/net';

describe('record and replay', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rxwire-record-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Serves `handler` recorded into `dir`, has one client send `pieces` 30 ms apart, and returns the session file. */
  async function recordSession(handler: typeof upper, pieces: string[]): Promise<string> {
    const server = await startServer(record(dir)(handler));
    try {
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      for (const piece of pieces) {
        socket.write(piece);
        await delay(30);
      }
      socket.end();
      await reply;
      await closed(socket);
    } finally {
      await server.close();
    }
    await eventually(() => readdirSync(dir).length === 1 && readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8').includes('"out-end"'), 5000, 'the session file');
    return join(dir, readdirSync(dir)[0]!);
  }

  it('writes a live session as JSON lines, one file per connection, that expectReplay then passes', async () => {
    const file = await recordSession(upper, ['hello ', 'world\n']);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines[0]).to.include({ rxwire: 'session', version: 1, transport: 'tcp' });
    expect(lines.slice(1).map(({ event }) => event)).to.deep.equal(['in', 'out', 'in', 'out', 'in-end', 'out-end']);
    expect(Buffer.from(lines[2].data, 'base64').toString()).to.equal('HELLO ');
    const times = lines.slice(1).map(({ t }) => t as number);
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    expectReplay(upper, file);
  });

  it('fails expectReplay when the recorded output is edited, showing both', async () => {
    const file = await recordSession(upper, ['hello\n']);
    const text = readFileSync(file, 'utf8').replace(Buffer.from('HELLO\n').toString('base64'), Buffer.from('HELLO!\n').toString('base64'));
    writeFileSync(file, text);
    expect(() => expectReplay(upper, file)).to.throw(
      AssertionError,
      `expectReplay: the handler answers ${file} differently than recorded, from byte 5\n  recorded: "HELLO!\\n", then complete\n  now:      "HELLO\\n", then complete`,
    );
  });

  it('replays the input at its recorded times in virtual time, and a timeout the handler had', async () => {
    const file = join(dir, 'idle.jsonl');
    const header = { rxwire: 'session', version: 1, transport: 'tcp', local: '127.0.0.1:1', remote: '127.0.0.1:2', started: '2026-01-01T00:00:00Z' };
    const events = [
      { t: 0, event: 'in', data: Buffer.from('a').toString('base64') },
      { t: 0, event: 'out', data: Buffer.from('A').toString('base64') },
      { t: 1000, event: 'out-error', error: { name: 'IdleTimeout', code: 'ERR_IDLE_TIMEOUT', message: 'idle for 1000 ms' } },
    ];
    writeFileSync(file, [header, ...events].map((line) => JSON.stringify(line)).join('\n') + '\n');
    expectReplay(pipe(idleTimeout(1000), map(upperBytes)), file);
    expect(() => expectReplay(map(upperBytes), file)).to.throw(AssertionError, /in how it ends\n  recorded: "A", then error IdleTimeout \[ERR_IDLE_TIMEOUT\]\n  now:      "A", then still open$/);
    new TestScheduler((actual, expected) => {
      expect(actual).to.deep.equal(expected);
    }).run(({ expectObservable }) => {
      expectObservable(replay(file).input.pipe(map(String))).toBe('a');
      const output = replay(file).output.pipe(map(String), catchError((error: { code: string }) => of(error.code)));
      expectObservable(output).toBe('A 999ms (E|)', { A: 'A', E: 'ERR_IDLE_TIMEOUT' });
    });
  });

  it('refuses a file it cannot read with the line and what is wrong', () => {
    const file = join(dir, 'bad.jsonl');
    writeFileSync(file, '{"rxwire":"session","version":1,"transport":"tcp","local":"a","remote":"b","started":"x"}\n{"t":1,"event":"in","data":"@@"}\n');
    expect(() => replay(file)).to.throw(InvalidRecording, `${file}:2: data: expected base64 bytes, got "@@"`);
    expect(() => record(dir, { maxByte: 1 } as never)).to.throw(InvalidOption, 'record: unknown option "maxByte" (did you mean "maxBytes"?)');
  });

  it('stops writing at maxBytes and says so, while the session goes on', async () => {
    const big = 'x'.repeat(4000);
    const server = await startServer(record(dir, { maxBytes: 8192 })(upper));
    try {
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      for (let i = 0; i < 5; i++) socket.write(big);
      socket.end();
      expect((await reply).length).to.equal(5 * big.length);
    } finally {
      await server.close();
    }
    // The file is opened asynchronously: under load the session may end first.
    const file = () => join(dir, readdirSync(dir)[0]!);
    await eventually(() => readdirSync(dir).length === 1 && readFileSync(file(), 'utf8').includes('"truncated"'), 5000, 'the truncated line');
    expect(readFileSync(file()).length).to.be.at.most(8192);
  });
});
