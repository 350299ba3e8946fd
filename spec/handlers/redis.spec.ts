import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { createClient } from 'redis';
import { Server } from 'rxwire';
import { redisHandler } from '../../handlers/redis';
import { closedPort, dial, eventually, portOf, Program, readAll, runCommand, startServer } from '../support/net';

// The redis handler against a real redis-server, through Redis's own tools (redis-cli,
// redis-benchmark) and the node-redis client. Under CI they must be installed (.ci/run does it);
// elsewhere the specs are skipped without them.

const tools = ['redis-server', 'redis-cli', 'redis-benchmark'];
const installed = tools.every((tool) => !spawnSync(tool, ['--version']).error);
const run = installed || process.env.CI ? describe : describe.skip;
const title = installed ? 'the redis handler beside redis-server' : 'the redis handler beside redis-server (skipped: apt-get install -y redis-server redis-tools)';

/** A command's output, its exit code and stderr; `input` is written to its stdin. Never blocks the event loop, which serves rxwire. */
function runTool(command: string, args: string[], input = '', ms = 60_000): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: no exit within ${ms} ms; stderr: ${stderr}`));
    }, ms);
    child.stdout.setEncoding('latin1').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
    child.stdin.end(input);
  });
}

/** redis-cli run over `script` (one command a line) in its non-interactive mode, replies formatted (--no-raw), so every byte of a reply shows. */
async function transcript(port: number, script: string[], extra: string[] = []): Promise<string[]> {
  const { stdout, stderr, code } = await runTool('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--no-raw', ...extra], `${script.join('\n')}\n`);
  expect(code, stderr).to.equal(0);
  return stdout.split('\n');
}

// The replies that may differ, each for a reason of its own: HELLO's connection id counts each
// server's own connections, and its version is whatever redis-server Debian ships.
const unstable = [/("id"(?:\n\s*\d+\)| =>) \(integer\) )\d+/g, /("version"(?:\n\s*\d+\)| =>) )"[^"]*"/g];
const normalise = (lines: string[]) => unstable.reduce((text, pattern) => text.replace(pattern, '$1…'), lines.join('\n')).split('\n');

/** Each command beside the replies of both servers, for a failure to show. */
function sideBySide(script: string[], ours: string[], theirs: string[]): string {
  return ['redis-cli script:', ...script.map((line) => `  ${line}`), 'rxwire:', ...ours.map((l) => `  ${l}`), 'redis-server:', ...theirs.map((l) => `  ${l}`)].join('\n');
}

/**
 * Everything a server sends back to `bytes`, sent in one write, until it closes, or goes quiet for
 * `quietMs` once it has sent `atLeast` bytes (a busy machine may pause a server longer than that).
 */
async function exchange(port: number, bytes: string | Buffer, atLeast = 0, quietMs = 300): Promise<{ reply: Buffer; closed: boolean }> {
  const socket = await dial({ port });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(bytes);
  let last = -1;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const outcome = await Promise.race([ended.then(() => 'closed'), new Promise((resolve) => setTimeout(() => resolve('quiet'), quietMs))]);
    if (outcome === 'closed') {
      closed = true;
      break;
    }
    const length = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (length === last && length >= atLeast) break;
    last = length;
  }
  socket.destroy();
  return { reply: Buffer.concat(chunks), closed };
}

const SCRIPT = [
  'FLUSHALL',
  'PING',
  'PING "hello world"',
  'PING a b',
  'ECHO "bin\\x00ary\\r\\n"',
  'SELECT 0',
  'SELECT 1',
  'SELECT x',
  'HELLO 2',
  'HELLO 4',
  'HELLO x',
  'HELLO 2 SETNAME "a b"',
  'HELLO 2 FOO',
  'HELLO 2 AUTH someone secret',
  'HELLO 2 AUTH default anything SETNAME spec',
  'CLIENT GETNAME',
  'CLIENT SETNAME rxwire-spec',
  'CLIENT GETNAME',
  'CLIENT SETNAME "a b"',
  'CLIENT SETNAME',
  'CLIENT NOPE',
  'SET k v',
  'GET k',
  'GET missing',
  'SET k v2 GET',
  'SET k v3 NX',
  'SET k v3 NX GET',
  'SET new v XX',
  'SET k v4 XX',
  'SET k v EX 0',
  'SET k v EX x',
  'SET k v NX XX',
  'SET k v EX 10 PX 10',
  'SET k v KEEPTTL EX 10',
  'SET k v EX',
  'SET k v PX 9223372036854775807',
  'SET k v PX 100000',
  'SET k v KEEPTTL',
  'SET k v',
  'TTL k',
  'SET past v EXAT 1',
  'GET past',
  'GETDEL k',
  'GETDEL k',
  'GETDEL',
  'MSET a 1 b 2 c 3',
  'MSET a',
  'MSET a 1 b',
  'MGET a b missing c',
  'EXISTS a b missing a',
  'DEL a missing b',
  'DEL',
  'INCR n',
  'INCRBY n 10',
  'DECR n',
  'DECRBY n 5',
  'INCRBY n x',
  'INCRBY n 1.5',
  'SET n 9223372036854775807',
  'INCR n',
  'SET n -9223372036854775808',
  'DECR n',
  'DECRBY n -9223372036854775808',
  'SET s hello',
  'INCR s',
  'SET z 007',
  'INCR z',
  'SET z " 1"',
  'INCR z',
  'APPEND s " world"',
  'APPEND fresh abc',
  'GET s',
  'STRLEN s',
  'STRLEN missing',
  'EXPIRE s 100',
  'PERSIST s',
  'TTL s',
  'PERSIST s',
  'PERSIST missing',
  'EXPIRE missing 10',
  'EXPIRE s 100 NX',
  'EXPIRE s 100 XX',
  'EXPIRE s 200 NX',
  'EXPIRE s 50 GT',
  'EXPIRE s 300 GT',
  'EXPIRE s 10 LT',
  'EXPIRE s 10 NX XX',
  'EXPIRE s 10 GT LT',
  'EXPIRE s 10 FOO',
  'EXPIRE s x',
  'EXPIRE s 9223372036854775807',
  'PEXPIRE s 9223372036854775807',
  'PEXPIRE s 100000',
  'PTTL missing',
  'PERSIST s',
  'PTTL s',
  'EXPIRE s -1',
  'EXISTS s',
  'TTL missing',
  'KEYS z*',
  'KEYS nomatch*',
  'KEYS f?esh',
  'KEYS [a-f]resh',
  'KEYS [^z]res[h]',
  'KEYS',
  'SCAN 0 MATCH fr* COUNT 1000',
  'SCAN 0 COUNT 0',
  'SCAN 0 COUNT x',
  'SCAN x',
  'SCAN 0 TYPE hash COUNT 1000',
  'SCAN 0 FOO bar',
  'SCAN 0 MATCH',
  'TYPE fresh',
  'TYPE missing',
  'DBSIZE',
  'DBSIZE x',
  'CONFIG GET save',
  'CONFIG GET appendonly',
  'CONFIG GET databases',
  'CONFIG GET',
  'CONFIG NOPE',
  'COMMAND NOPE',
  'COMMAND COUNT x',
  'FLUSHDB',
  'DBSIZE',
  'FLUSHDB FOO',
  'FLUSHALL SYNC',
  'GET',
  'NOSUCHCOMMAND a "b c"',
  'nosuchcommand',
];

/**
 * Time left to live, read back: each server reads its clock when the command reaches it, so a
 * busy machine may make them a second apart. Every reply is one line; TTL and PTTL replies are
 * compared within 2 s, the others byte for byte.
 */
const TTL_SCRIPT = [
  'FLUSHALL',
  'SET k v PX 100000',
  'TTL k',
  'PTTL k',
  'SET k v KEEPTTL',
  'TTL k',
  'SET k v',
  'TTL k',
  'SET s hello',
  'EXPIRE s 100',
  'TTL s',
  'PERSIST s',
  'EXPIRE s 100 NX',
  'EXPIRE s 200 NX',
  'EXPIRE s 50 GT',
  'EXPIRE s 300 GT',
  'TTL s',
  'EXPIRE s 10 LT',
  'TTL s',
  'PEXPIRE s 100000',
  'TTL s',
  'PTTL s',
];

/** The same commands once the client said HELLO 3 (redis-cli -3): RESP3's null and maps. */
const RESP3_SCRIPT = [
  'FLUSHALL',
  'GET missing',
  'MGET missing',
  'SET k v',
  'SET k v NX',
  'SET k v2 NX GET',
  'GETDEL missing',
  'CLIENT GETNAME',
  'CONFIG GET save',
  'HELLO 3',
  'HELLO 2',
  'GET missing',
  'HELLO',
];

run(title, function () {
  // Starting redis-server and running Redis's tools on a busy machine.
  this.timeout(120_000);
  let real: Program;
  let realPort: number;
  let ours: Server;
  let ourPort: number;

  before(async () => {
    realPort = await closedPort();
    real = runCommand('redis-server', ['--port', String(realPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--databases', '1']);
    await eventually(() => real.stdout.some((line) => line.includes('Ready to accept connections')) || real.child.exitCode !== null, 20_000, 'redis-server to start');
    expect(real.child.exitCode, real.stdout.join('\n')).to.equal(null);
    ours = await startServer(redisHandler());
    ourPort = portOf(ours.address);
  });

  after(async () => {
    real?.child.kill('SIGKILL');
    await real?.exit;
    await ours?.close();
  });

  it('gives redis-cli the replies redis-server gives, byte for byte, for every command', async () => {
    const [theirs, mine] = await Promise.all([transcript(realPort, SCRIPT), transcript(ourPort, SCRIPT)]);
    expect(normalise(mine), sideBySide(SCRIPT, mine, theirs)).to.deep.equal(normalise(theirs));
    // One reply a command (redis-cli may print one over several lines, never none).
    expect(mine.filter((line) => !line.startsWith(' ')).length).to.be.at.least(SCRIPT.length);
  });

  it('gives redis-cli the times to live redis-server gives, within the 2 s the two clocks may be apart', async () => {
    const [theirs, mine] = await Promise.all([transcript(realPort, TTL_SCRIPT), transcript(ourPort, TTL_SCRIPT)]);
    const failure = sideBySide(TTL_SCRIPT, mine, theirs);
    expect(mine.length, failure).to.equal(theirs.length);
    TTL_SCRIPT.forEach((command, i) => {
      const timed = /^P?TTL /.test(command) && /^\(integer\) \d+$/.test(theirs[i]!);
      if (!timed) return expect(mine[i], `${command}\n${failure}`).to.equal(theirs[i]);
      const [ours, real] = [mine[i]!, theirs[i]!].map((line) => Number(line.split(' ')[1]));
      expect(Math.abs(ours! - real!), `${command}\n${failure}`).to.be.at.most(command.startsWith('TTL') ? 2 : 2000);
    });
  });

  it('gives redis-cli -3 (RESP3) the replies redis-server gives, byte for byte', async () => {
    const [theirs, mine] = await Promise.all([transcript(realPort, RESP3_SCRIPT, ['-3']), transcript(ourPort, RESP3_SCRIPT, ['-3'])]);
    expect(normalise(mine), sideBySide(RESP3_SCRIPT, mine, theirs)).to.deep.equal(normalise(theirs));
  });

  it('answers COMMAND COUNT with the number of commands it has', async () => {
    const [mine] = await transcript(ourPort, ['COMMAND COUNT']);
    expect(mine).to.match(/^\(integer\) \d+$/);
  });

  it('sends the same bytes as redis-server to inline commands, pipelines, QUIT and broken requests', async () => {
    const cases: string[] = [
      'PING\r\nset a "b c"\r\nget a\r\n\r\nGET a\nDEL a\r\n',
      Array.from({ length: 500 }, (_, i) => `*3\r\n$3\r\nSET\r\n$${String(i).length + 1}\r\nk${i}\r\n$${String(i).length}\r\n${i}\r\n*2\r\n$4\r\nINCR\r\n$${String(i).length + 1}\r\nk${i}\r\n`).join('') + '*0\r\n*1\r\n$6\r\nDBSIZE\r\n',
      'PING\r\nQUIT\r\nPING\r\n',
      '*1\r\n$x\r\n',
      '*1\r\n$536870913\r\n',
      '*1\r\n:1\r\nPING\r\n',
      '*x\r\n',
      'set a "b\r\n',
      'PING\r\n*2\r\n*1\r\n',
      '*2\r\n$4\r\nECHO\r\n$-1\r\n',
      '*-1\r\n*0\r\nPING\r\n',
      '+OK\r\n$4\r\nPING\r\n',
      '*2\r\n$4\r\nECHO\r\nx\r\n',
      '*2\r\n$4\r\nECHO\r\n$2\r\n\x00\x7f\r\n*1\r\n$4\r\nPI',
    ];
    for (const bytes of cases) {
      const theirs = await exchange(realPort, bytes, 0, 600);
      const mine = await exchange(ourPort, bytes, theirs.reply.length);
      expect(mine.reply.toString('latin1'), JSON.stringify(bytes.slice(0, 80))).to.equal(theirs.reply.toString('latin1'));
      expect(mine.closed, `closed after ${JSON.stringify(bytes.slice(0, 80))}`).to.equal(theirs.closed);
    }
  });

  it('serves node-redis, RESP2 and RESP3, a pipelined workload in order', async () => {
    for (const RESP of [2, 3] as const) {
      const client = createClient({ url: `redis://127.0.0.1:${ourPort}`, RESP });
      client.on('error', () => {});
      await client.connect();
      try {
        // Issued in one tick, node-redis writes them as one pipeline.
        const keys = Array.from({ length: 2000 }, (_, i) => `user:${RESP}:${i}`);
        const sets = await Promise.all(keys.map((key, i) => client.set(key, `value ${i}`)));
        expect(sets.every((reply) => reply === 'OK')).to.equal(true);
        const [values, counts, many] = await Promise.all([
          Promise.all(keys.map((key) => client.get(key))),
          Promise.all(keys.map(() => client.incr(`counter:${RESP}`))),
          client.mGet(keys.slice(0, 100)),
        ]);
        expect(values).to.deep.equal(keys.map((_, i) => `value ${i}`));
        expect(counts).to.deep.equal(keys.map((_, i) => i + 1));
        expect(many).to.deep.equal(keys.slice(0, 100).map((_, i) => `value ${i}`));
        const piped = await client.multi().set('a', '1').incrBy('a', 41).get('a').expire('a', 100).ttl('a').get('missing').execAsPipeline();
        expect(piped).to.deep.equal(['OK', 42, '42', 1, 100, null]);
        expect(await client.del(keys)).to.equal(keys.length);
      } finally {
        await client.quit();
      }
    }
  });

  it('runs redis-benchmark (ping, set, get, incr, mset; -P 16, 50 clients) to the end with no error', async () => {
    const { stdout, stderr, code } = await runTool('redis-benchmark', ['-h', '127.0.0.1', '-p', String(ourPort), '-t', 'ping,set,get,incr,mset', '-P', '16', '-c', '50', '-n', '20000', '-q']);
    expect(code, stderr).to.equal(0);
    expect(stderr).to.equal('');
    const finals = stdout.split(/[\r\n]/).filter((line) => / requests per second/.test(line));
    for (const test of ['PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR', 'MSET (10 keys)']) {
      expect(finals.some((line) => line.includes(`${test}: `)), `${test} in:\n${stdout}`).to.equal(true);
    }
    expect(stdout).not.to.match(/error/i);
  });

  it('holds a client that pipelines and never reads with backpressure, its replies answered in order once it reads', async () => {
    const socket = await dial({ port: ourPort });
    socket.pause();
    const command = Buffer.from('*2\r\n$4\r\nECHO\r\n$1000\r\n' + 'x'.repeat(1000) + '\r\n');
    let sent = 0;
    // Write until the writes back up for a second: the server has stopped reading.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      sent++;
      if (socket.write(command)) continue;
      const drained = await Promise.race([new Promise<boolean>((resolve) => socket.once('drain', () => resolve(true))), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000))]);
      if (!drained) break;
    }
    const backlog = socket.writableLength;
    expect(backlog, 'the server stopped reading').to.be.above(0);
    // The server keeps no more than its high-water mark and the kernel's buffers for us.
    expect(ours.connections).to.equal(1);
    const reply = readAll(socket);
    socket.end();
    socket.resume();
    const bytes = await reply;
    const one = 1000 + '$1000\r\n'.length + 2;
    expect(bytes.length).to.equal(sent * one);
  });
});

describe('the redis handler on its own', () => {
  const command = (...args: string[]) => `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;

  it("answers writes past its memory budget with Redis's -OOM, and takes them again once keys are deleted", async () => {
    const server = await startServer(redisHandler({ maxMemory: 10_000 }));
    try {
      const value = 'x'.repeat(1000);
      const sets = Array.from({ length: 12 }, (_, i) => command('SET', `k${i}`, value)).join('');
      const { reply } = await exchange(portOf(server.address), sets + command('GET', 'k0') + command('DEL', 'k0', 'k1') + command('SET', 'again', value));
      const oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
      const text = reply.toString();
      expect(text.startsWith('+OK\r\n'.repeat(8))).to.equal(true);
      expect(text).to.include(oom);
      expect(text.endsWith(`$1000\r\n${value}\r\n:2\r\n+OK\r\n`)).to.equal(true);
    } finally {
      await server.close();
    }
  });

  it('sweeps keys that expired though no client looks them up again', async () => {
    const server = await startServer(redisHandler());
    try {
      const port = portOf(server.address);
      const socket = await dial({ port });
      socket.write(Array.from({ length: 50 }, (_, i) => command('SET', `k${i}`, 'v', 'PX', '20')).join('') + command('SET', 'kept', 'v'));
      const replies: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => replies.push(chunk));
      await eventually(() => Buffer.concat(replies).toString() === '+OK\r\n'.repeat(51), 5000, 'the SET replies');
      // DBSIZE counts keys that have expired and are not yet swept, as Redis's does.
      await eventually(() => {
        socket.write(command('DBSIZE'));
        return Buffer.concat(replies).toString().endsWith(':1\r\n');
      }, 5000, 'the sweep');
      socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('answers the commands before a broken one, then its protocol error, and ends the connection', async () => {
    const server = await startServer(redisHandler());
    try {
      const { reply, closed } = await exchange(portOf(server.address), command('PING') + '*1\r\n$99999999999\r\n');
      expect(reply.toString()).to.equal('+PONG\r\n-ERR Protocol error: invalid bulk length\r\n');
      expect(closed).to.equal(true);
    } finally {
      await server.close();
    }
  });
});
