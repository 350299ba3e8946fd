// `npm run soak -- --minutes N`: mixed load against examples/upper.ts for N minutes, every byte
// checked, the server's memory and descriptors sampled; issue #13's soak. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { formatCount, MiB } from './format';
import { processUserSeconds } from './machine';
import { Payload } from './soak/payload';
import { PeerKind, runPeer, Tally, Target, VANISHING } from './soak/peers';
import { UpperServer, Usage } from './soak/server';
import { median } from './stats';

const USAGE = `usage: npm run soak -- [--minutes N]

  --minutes N   how long the load runs, 1 to 120 (default 10); RSS is judged from 3 minutes on`;

const IDLE_MS = 2_000;
// The server's lingerMs: examples/upper.ts has no flag for it, so the library's default.
const LINGER_MS = 5_000;
const SAMPLE_MS = 10_000;
// RSS is flat when the last minute's median is at most this much above the second minute's.
const RSS_TOLERANCE = 0.1;
// After the load stops and every peer is closed, the server's descriptors must be back this soon.
const DESCRIPTORS_BACK_MS = 5_000;
const DESCRIPTORS_WAIT_MS = 15_000;
const DESCRIPTORS_POLL_MS = 100;
// Peers still open this long after the deadline are cut; every session ends well within it.
const DRAIN_MS = 60_000;
const STOP_MS = 10_000;
// Destroyed sockets report their close on a later turn of the event loop.
const PEERS_CLOSE_MS = 2_000;
// Just under 1 MiB and prime, so that the random block never lines up with 64 KiB reads.
const PAYLOAD_BYTES = 1_048_573;
const MAX_SESSIONS_PER_WORKER = 1_000_000;

/** Concurrent peers of each kind: a few dozen connections, so that the soak is about leaks, not throughput. */
const WORKERS: readonly { kinds: readonly PeerKind[]; count: number; gapMs: number }[] = [
  { kinds: ['bulk'], count: 3, gapMs: 100 },
  { kinds: ['ping-pong'], count: 8, gapMs: 0 },
  { kinds: ['churn'], count: 4, gapMs: 20 },
  { kinds: ['slow reader'], count: 3, gapMs: 100 },
  { kinds: VANISHING, count: VANISHING.length, gapMs: 0 },
];

interface Sample extends Usage {
  readonly seconds: number;
  readonly peersOpen: number;
  readonly verifiedBytes: number;
  readonly verifiedMessages: number;
  readonly sessions: number;
  readonly mismatches: number;
  readonly failures: number;
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

function minutesFromArgs(argv: string[]): number | { exitCode: 0 | 2; message: string } {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { minutes: { type: 'string' }, help: { type: 'boolean' } } }));
  } catch (err) {
    return { exitCode: 2, message: `soak: ${(err as Error).message}\n${USAGE}` };
  }
  if (values.help) return { exitCode: 0, message: USAGE };
  const minutes = values.minutes === undefined ? 10 : Number(values.minutes);
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 120) {
    return { exitCode: 2, message: `soak: --minutes: expected a whole number from 1 to 120, got ${values.minutes}` };
  }
  return minutes;
}

const HEADER = `${'time'.padStart(6)} ${'RSS MiB'.padStart(8)} ${'fds'.padStart(5)} ${'peers'.padStart(6)} ${'verified MiB'.padStart(13)} ${'messages'.padStart(10)} ${'sessions'.padStart(9)} ${'mismatches'.padStart(11)} ${'failures'.padStart(9)}`;

function row(s: Sample): string {
  const time = `${Math.floor(s.seconds / 60)}:${String(Math.round(s.seconds % 60)).padStart(2, '0')}`;
  return [
    time.padStart(6),
    (s.rssBytes / MiB).toFixed(1).padStart(8),
    String(s.descriptors).padStart(5),
    String(s.peersOpen).padStart(6),
    formatCount(Math.round(s.verifiedBytes / MiB)).padStart(13),
    formatCount(s.verifiedMessages).padStart(10),
    formatCount(s.sessions).padStart(9),
    String(s.mismatches).padStart(11),
    String(s.failures).padStart(9),
  ].join(' ');
}

function sample(server: UpperServer, tally: Tally, startedAt: number): Sample {
  return {
    ...server.usage(),
    seconds: (performance.now() - startedAt) / 1000,
    peersOpen: tally.open.size,
    verifiedBytes: tally.verifiedBytes,
    verifiedMessages: tally.verifiedMessages,
    sessions: tally.totalSessions,
    mismatches: tally.mismatches,
    failures: tally.failures,
  };
}

/** A sample, or undefined once the server process is gone. */
function sampleIfAlive(server: UpperServer, tally: Tally, startedAt: number): Sample | undefined {
  try {
    return server.alive ? sample(server, tally, startedAt) : undefined;
  } catch {
    return undefined; // it exited between the check and the read of /proc
  }
}

/** The median RSS of the samples taken in minute `minute` (1-based) of the load. */
function minuteMedianRss(samples: readonly Sample[], minute: number): number {
  return median(samples.filter((s) => s.seconds > (minute - 1) * 60 && s.seconds <= minute * 60).map((s) => s.rssBytes));
}

/** Polls until `done()` holds or `ms` have passed. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const began = performance.now();
  while (!done() && performance.now() - began < ms) await sleep(DESCRIPTORS_POLL_MS);
}

/** Polls until the server holds at most `baseline` descriptors; the milliseconds that took, or undefined if not within the wait. */
async function descriptorsBack(server: UpperServer, tally: Tally, baseline: number): Promise<number | undefined> {
  const began = performance.now();
  while (performance.now() - began < DESCRIPTORS_WAIT_MS) {
    const now = sampleIfAlive(server, tally, began);
    if (now === undefined) return undefined;
    if (now.descriptors <= baseline) return performance.now() - began;
    await sleep(DESCRIPTORS_POLL_MS);
  }
  return undefined;
}

function verdictLine(pass: boolean | undefined, line: string): string {
  return `${pass === undefined ? 'n/a ' : pass ? 'PASS' : 'FAIL'}  ${line}`;
}

async function main(): Promise<number> {
  const minutes = minutesFromArgs(process.argv.slice(2));
  if (typeof minutes !== 'number') {
    (minutes.exitCode === 0 ? process.stdout : process.stderr).write(`${minutes.message}\n`);
    return minutes.exitCode;
  }
  const payload = new Payload(randomBytes(PAYLOAD_BYTES));
  const server = await UpperServer.start(['--port', '0', '--host', '127.0.0.1', '--idle-ms', String(IDLE_MS)]);
  const target: Target = { port: server.port, idleMs: IDLE_MS, lingerMs: LINGER_MS };
  const tally = new Tally();
  say(`rxwire soak: ${minutes} min of mixed load against examples/upper.ts (pid ${server.pid}, 127.0.0.1:${server.port}, --idle-ms ${IDLE_MS})`);
  say(`peers: ${WORKERS.map((w) => `${w.count} × ${w.kinds.length === 1 ? w.kinds[0] : 'vanishing'}`).join(', ')}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  // One peer of each quick kind first, so that what the server allocates once is in the baseline.
  await runPeer('churn', target, payload, tally);
  await runPeer('ping-pong', target, payload, tally);
  await sleep(1_000);
  const startedAt = performance.now();
  const cpuAtStart = processUserSeconds(server.pid);
  const samples: Sample[] = [sample(server, tally, startedAt)];
  const baseline = samples[0].descriptors;
  say();
  say(HEADER);
  say(row(samples[0]));

  const deadline = startedAt + minutes * 60_000;
  const running = () => performance.now() < deadline && server.alive;
  const sampler = setInterval(() => {
    const now = sampleIfAlive(server, tally, startedAt);
    if (now === undefined) return;
    samples.push(now);
    say(row(now));
  }, SAMPLE_MS);
  const worker = async (kinds: readonly PeerKind[], first: number, gapMs: number) => {
    for (let session = 0; session < MAX_SESSIONS_PER_WORKER && running(); session++) {
      await runPeer(kinds[(first + session) % kinds.length], target, payload, tally);
      if (gapMs > 0) await sleep(gapMs);
    }
  };
  const workers = WORKERS.flatMap(({ kinds, count, gapMs }) => Array.from({ length: count }, (_, i) => worker(kinds, i, gapMs)));
  const cut = await Promise.race([Promise.all(workers).then(() => false), sleep(deadline - performance.now() + DRAIN_MS).then(() => true)]);
  const stillRunning = cut ? tally.open.size : 0;
  clearInterval(sampler);
  const loadSeconds = (performance.now() - startedAt) / 1000;
  const serverCpu = server.alive ? (processUserSeconds(server.pid) - cpuAtStart) / loadSeconds : NaN;
  for (const socket of tally.open) socket.destroy();
  await until(() => tally.open.size === 0, PEERS_CLOSE_MS);

  const atStop = sampleIfAlive(server, tally, startedAt);
  const backMs = await descriptorsBack(server, tally, baseline);
  const settled = sampleIfAlive(server, tally, startedAt);
  if (settled) say(`${row(settled)}   (load stopped, peers closed)`);
  const alive = server.alive;
  const exit = await server.stop(STOP_MS);

  say();
  say(`Took ${loadSeconds.toFixed(0)} s of load; server user CPU ${(serverCpu * 100).toFixed(0)}% of a core; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`);
  say(`Sessions by kind: ${[...tally.sessions].map(([kind, count]) => `${kind} ${formatCount(count)}`).join(', ')}.`);
  const log = server.log;
  say(`Server log: ${formatCount(log.opened)} open, ${formatCount(log.closed)} closed, ${formatCount(log.idleClosing)} idle closes, ${formatCount(log.socketErrors)} socket errors, ${log.other} other lines.`);
  for (const line of log.otherLines) say(`  other: ${line}`);
  for (const problem of tally.problems) say(`  problem: ${problem}`);
  if (stillRunning > 0) say(`  ${stillRunning} peer(s) still open ${DRAIN_MS / 1000} s after the deadline were cut`);

  const second = minuteMedianRss(samples, 2);
  const last = minuteMedianRss(samples, minutes);
  const growth = last / second - 1;
  const verdict = [
    verdictLine(
      tally.mismatches === 0 && tally.verifiedBytes > 0,
      `bytes: ${formatCount(Math.round(tally.verifiedBytes / MiB))} MiB and ${formatCount(tally.verifiedMessages)} messages verified, ${tally.mismatches} mismatches`,
    ),
    verdictLine(tally.failures === 0 && stillRunning === 0, `sessions: ${formatCount(tally.totalSessions)} ended as their kind expects, ${tally.failures} failed`),
    verdictLine(
      minutes >= 3 ? growth <= RSS_TOLERANCE : undefined,
      minutes >= 3
        ? `RSS flat: last-minute median ${(last / MiB).toFixed(1)} MiB, second-minute median ${(second / MiB).toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%, at most +${RSS_TOLERANCE * 100}%)`
        : `RSS flat: needs --minutes 3 or more (the second and last minutes overlap)`,
    ),
    verdictLine(
      backMs !== undefined && backMs <= DESCRIPTORS_BACK_MS,
      `descriptors: baseline ${baseline}, ${atStop?.descriptors ?? '?'} when the load stopped, ` +
        (backMs === undefined ? `not back within ${DESCRIPTORS_WAIT_MS / 1000} s` : `back to ≤ ${baseline} after ${(backMs / 1000).toFixed(1)} s`) +
        ` (at most ${DESCRIPTORS_BACK_MS / 1000} s)`,
    ),
    verdictLine(log.opened > 0 && log.opened === log.closed, `server log: every connection opened was closed (${formatCount(log.opened)} / ${formatCount(log.closed)})`),
    verdictLine(alive && log.openAtStop === 0 && exit === 'exit code 0', `server: ${alive ? 'alive after the soak' : 'died during the soak'}; SIGTERM with ${log.openAtStop ?? '?'} connection(s) open, then ${exit}`),
  ];
  say();
  say('Verdict:');
  for (const line of verdict) say(`  ${line}`);
  return verdict.some((line) => line.startsWith('FAIL')) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`soak: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
