import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { map } from 'rxjs';
import { Handler, InvalidOption, serve, upperBytes } from 'rxwire';
import { closed, eventually, listening, portOf, root, roundTrip, runProgram } from '../../support/net';

// `--log-format json`: every line on stderr a JSON object as pino writes them (level, time, msg
// and the event's fields), which pino-pretty reads; in code, a `logger` option takes pino or
// anything with info, warn and error.

type Row = Record<string, unknown>;

const shout: Handler = (input) => input.pipe(map(upperBytes));

/** Runs the command with `args`, makes a connection that ends and one that goes idle, stops it, and gives stderr. */
async function served(args: string[]): Promise<string[]> {
  const server = await listening(runProgram('lib/cli/rxwire.ts', ['--host', '127.0.0.1', '--port', '0', '--idle-ms', '300', ...args]), 60_000);
  try {
    expect((await roundTrip({ port: portOf(server.address) }, Buffer.from('hello\n'))).toString()).to.equal('HELLO\n');
    const idle = net.connect(portOf(server.address), '127.0.0.1');
    idle.write('x');
    idle.resume(); // read on, to see the server's end
    await closed(idle);
    // Both close records are written once the server has told them; then it stops.
    await eventually(() => server.stderr.filter((line) => line.includes('closed')).length >= 2 || args.includes('-q'), 10_000, 'two close records');
  } finally {
    server.child.kill('SIGTERM');
  }
  expect(await server.exit).to.equal(0);
  return server.stderr;
}

describe('rxwire --log-format json', function () {
  this.timeout(120_000);

  it("writes each event as one JSON record, pino's fields first, the event's beside them, and pino-pretty renders them", async () => {
    const stderr = await served(['--log-format', 'json']);
    const rows = stderr.map((line) => JSON.parse(line) as Row);
    for (const row of rows) {
      expect(row).to.include.keys('level', 'time', 'pid', 'msg');
      expect(row['time']).to.be.a('number');
    }
    const opens = rows.filter((row) => row['type'] === 'open');
    const closes = rows.filter((row) => row['type'] === 'close');
    expect(opens).to.have.length(2);
    expect(opens[0]).to.include({ level: 30, transport: 'tcp' });
    expect(opens[0]).to.have.property('id').that.is.a('number');
    expect(opens[0]!['msg']).to.equal(`#${opens[0]!['id']} open ${opens[0]!['remote']}`);
    expect(closes.map((row) => row['reason']).sort()).to.deep.equal(['end', 'idle']);
    const ended = closes.find((row) => row['reason'] === 'end')!;
    expect(ended).to.include({ bytesIn: 6, bytesOut: 6 });
    expect(ended['msg']).to.match(/^#\d+ closed 127\.0\.0\.1:\d+: 6 bytes in, 6 bytes out, \d+ ms$/);
    const idle = closes.find((row) => row['reason'] === 'idle')!;
    expect(idle['err']).to.include({ type: 'IdleTimeout', code: 'ERR_IDLE_TIMEOUT', message: 'idle for 300 ms' });
    expect(rows.find((row) => row['type'] === 'shutdown')).to.include({ reason: 'SIGTERM', msg: 'SIGTERM: closing, 0 connection(s) open' });

    const pretty = spawnSync(path.join(root, 'node_modules/.bin/pino-pretty'), ['--colorize', 'false'], { input: stderr.join('\n') + '\n', encoding: 'utf8' });
    expect(pretty.status, pretty.stderr).to.equal(0);
    expect(pretty.stdout).to.match(/\] INFO \(\d+\): #\d+ open 127\.0\.0\.1:\d+\n/);
    expect(pretty.stdout).to.include('reason: "idle"');
    expect(pretty.stdout).to.match(/INFO \(\d+\): SIGTERM: closing, 0 connection\(s\) open/);
  });

  it('under -q keeps only the server-level records: no open or close', async () => {
    const rows = (await served(['--log-format', 'json', '-q'])).map((line) => JSON.parse(line) as Row);
    expect(rows.map((row) => row['type'])).to.deep.equal(['shutdown']);
  });

  it('refuses a format it does not know in one line, exit 2, naming the flag', () => {
    const run = spawnSync(process.execPath, ['-r', path.join(root, 'spec/support/transpile.js'), path.join(root, 'lib/cli/rxwire.ts'), '--log-format', 'xml'], { encoding: 'utf8' });
    expect(run.status).to.equal(2);
    expect(run.stderr).to.equal('rxwire: --log-format: expected "text" or "json", got "xml"\n');
  });
});

describe('the logger option', () => {
  /** A pino logger writing into `rows`, one parsed record each. */
  function pinoInto(rows: Row[]) {
    return pino(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          rows.push(...chunk.toString().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Row));
          done();
        },
      }),
    );
  }

  it('takes a pino logger: each event a record, at the level it deserves', async () => {
    const rows: Row[] = [];
    const server = await serve({ host: '127.0.0.1', port: 0, logger: pinoInto(rows), maxConnections: 1 }, shout);
    try {
      const held = net.connect(server.port!, '127.0.0.1');
      await eventually(() => rows.some((row) => row['type'] === 'open'), 5000, 'the open record');
      const refused = net.connect(server.port!, '127.0.0.1');
      await closed(refused);
      held.end();
      await closed(held);
      await eventually(() => rows.some((row) => row['type'] === 'close'), 5000, 'the close record');
    } finally {
      await server.close();
    }
    expect(rows.find((row) => row['type'] === 'refused'), JSON.stringify(rows)).to.include({ level: 40, reason: 'max-connections', limit: 1 });
    expect(rows.find((row) => row['type'] === 'close')).to.include({ level: 30, reason: 'end' });
  });

  it('takes anything with info, warn and error, as fastify does', async () => {
    const told: [string, Row, string][] = [];
    const at = (level: string) => (fields: object, message: string) => told.push([level, fields as Row, message]);
    const server = await serve({ host: '127.0.0.1', port: 0, logger: { info: at('info'), warn: at('warn'), error: at('error') } }, shout);
    try {
      await roundTrip({ port: server.port! }, Buffer.from('hi'));
      await eventually(() => told.some(([, fields]) => fields['type'] === 'close'), 5000, 'the close record');
    } finally {
      await server.close();
    }
    expect(told.map(([level, fields]) => `${level} ${String(fields['type'])}`)).to.deep.equal(['info open', 'info close']);
    expect(told[0]![2]).to.match(/^#\d+ open 127\.0\.0\.1:\d+$/);
  });

  it('refuses in one line a logger without the three methods, and log with logger', async () => {
    const bad = await serve({ port: 0, logger: console.log as never }, (input) => input).then(() => undefined, (err: unknown) => err);
    expect(bad).to.be.instanceOf(InvalidOption);
    expect((bad as Error).message).to.equal('serve: logger: expected a pino logger, or an object with info, warn and error methods, got function');
    const partial = await serve({ port: 0, logger: { info() {} } as never }, (input) => input).then(() => undefined, (err: unknown) => err);
    expect((partial as Error).message).to.equal('serve: logger: expected a pino logger, or an object with info, warn and error methods, got {"info":"[function]"}');
    const both = await serve({ port: 0, log: () => {}, logger: console }, (input) => input).then(() => undefined, (err: unknown) => err);
    expect(both).to.be.instanceOf(InvalidOption);
    expect((both as Error).message).to.equal('serve: log and logger cannot be combined: logger takes the events as records, log their text');
  });
});
