import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { setTimeout as delay } from 'node:timers/promises';
import cluster from 'node:cluster';
import { cpuMicrosOf, statusBytes } from '../procStatus';
import { Probe, Protocol, PROTOCOLS, Reply, Request } from './protocol';

const SETTLE_MS = 200;

/**
 * The body of a server process (bench/servers/rxwire.ts, bench/servers/baseline.ts): listens with
 * `listen(protocol)` for the protocol named on the command line, tells the bench its port, then
 * answers probes until told to stop or the bench goes away. With a profile path after the
 * protocol, it records a V8 CPU profile from listening to stop, so startup stays out of it.
 */
export function runServerProcess(listen: (protocol: Protocol) => Promise<number>): void {
  const [protocolArg, profilePath] = process.argv.slice(2);
  const protocol = PROTOCOLS.find((known) => known === protocolArg);
  if (protocol === undefined || process.send === undefined) {
    process.stderr.write(`usage: started by bench/main.ts with one of ${PROTOCOLS.join(', ')} [PROFILE.cpuprofile]\n`);
    process.exit(2);
  }
  const serve = async () => {
    const port = await listen(protocol);
    const stopProfiling = profilePath === undefined ? async () => {} : await startProfiling(profilePath);
    reply({ type: 'listening', port });
    process.on('message', (request: Request) => answer(request, stopProfiling));
    // The bench died or stopped us: don't outlive it.
    process.on('disconnect', () => process.exit(0));
  };
  serve().catch((err: Error) => {
    reply({ type: 'failed', reason: err.message });
    process.exit(1);
  });
}

function answer(request: Request, stopProfiling: () => Promise<void>): void {
  switch (request.type) {
    case 'probe':
      if (!request.collectGarbage) return reply({ type: 'probe', ...probe() });
      return void collectGarbage().then(() => reply({ type: 'probe', ...probe() }));
    case 'resetPeak':
      // Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
      writeFileSync('/proc/self/clear_refs', '5');
      return reply({ type: 'peakReset' });
    case 'stop':
      stopProfiling().finally(() => process.exit(0));
  }
}

/** Starts V8's sampling profiler, as `node --cpu-prof` does; the function returned writes the profile to `path`. */
async function startProfiling(path: string): Promise<() => Promise<void>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(path, JSON.stringify(profile));
  };
}

function reply(message: Reply): void {
  process.send?.(message);
}

/**
 * Two full GCs a moment apart: V8 sweeps and gives pages back to the OS after a GC returns, so
 * RSS read at once still counts some of what it freed.
 */
async function collectGarbage(): Promise<void> {
  const gc = global.gc;
  if (gc === undefined) throw new Error('server process started without --expose-gc');
  gc();
  await delay(SETTLE_MS);
  gc();
}

/** This process's memory; its CPU time and, with workers, theirs too. */
function probe(): Probe {
  const status = readFileSync('/proc/self/status', 'utf8');
  const cpu = process.cpuUsage();
  const workers = Object.values(cluster.workers ?? {}).reduce((sum, worker) => sum + (worker?.process.pid ? cpuMicrosOf(worker.process.pid) : 0), 0);
  return { rss: statusBytes(status, 'VmRSS'), peakRss: statusBytes(status, 'VmHWM'), cpuMicros: cpu.user + cpu.system + workers };
}
