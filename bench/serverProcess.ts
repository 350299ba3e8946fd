import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { cpuMicrosOf, statusBytes } from './procStatus';
import { Implementation, Probe, Protocol, Reply, Request, ServerSetup, SETUP_ENV } from './servers/protocol';

const ROOT = path.resolve(__dirname, '..');
const STARTUP_MS = 30_000;
const REPLY_MS = 10_000;
const STOP_MS = 10_000;
// What is kept of a server's stderr (its log lines), to say why it crashed.
const STDERR_KEPT = 2048;

export interface StartOptions {
  /** The CPU core the server is pinned to. */
  readonly core: number;
  /** Where a Node server writes a CPU profile of its serving time; none for no profile. */
  readonly profileDir?: string;
  /** The rxwire server's setup, where a scenario compares two. */
  readonly setup?: ServerSetup;
}

/**
 * A server of the bench in a process of its own, pinned to one core, whose memory and CPU can be
 * probed. Node servers answer probes over IPC (they can collect garbage first); the asyncio
 * server is probed from outside, through /proc.
 */
export class ServerProcess {
  /** Rejects when the process exits before `stop()`: a crashed server fails the run at once. */
  readonly crashed: Promise<never>;
  private stderrTail = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly exited: Promise<void>,
    private readonly overIpc: boolean,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => (this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_KEPT)));
    this.crashed = exited.then(() => {
      const said = this.stderrTail.trim().split('\n').slice(-3).join(' / ');
      throw new Error(`server process exited (code ${child.exitCode}, signal ${child.signalCode})${said ? `: ${said}` : ''}`);
    });
    this.crashed.catch(() => {});
  }

  static async start(implementation: Implementation, protocol: Protocol, options: StartOptions): Promise<ServerProcess> {
    const child = implementation === 'asyncio' ? spawnPython(protocol, options) : spawnNode(implementation, protocol, options);
    // stderr is a pipe, drained here: log lines cost what they cost in production behind a pipe.
    child.stderr!.resume();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const overIpc = implementation !== 'asyncio';
    const reply = await (overIpc ? nextReply(child, STARTUP_MS, `${implementation} server to start`) : listeningLine(child)).catch((err: Error) => err);
    if (!(reply instanceof Error) && reply.type === 'listening') return new ServerProcess(child, reply.port, exited, overIpc);
    child.kill('SIGKILL');
    if (reply instanceof Error) throw reply;
    throw new Error(reply.type === 'failed' ? reply.reason : `unexpected reply ${reply.type} from ${implementation} server`);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Memory and CPU time now; with `collectGarbage`, after full GCs (Node only: Python frees by reference count). */
  async probe(collectGarbage = false): Promise<Probe> {
    if (!this.overIpc) return probeFromOutside(this.pid);
    const reply = await this.ask({ type: 'probe', collectGarbage });
    if (reply.type !== 'probe') throw new Error(`expected a probe, got ${reply.type}`);
    return reply;
  }

  /** From now on, `peakRss` is the highest RSS since this call. */
  async resetPeak(): Promise<void> {
    // Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
    if (!this.overIpc) return writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
    await this.ask({ type: 'resetPeak' });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      if (this.overIpc) this.child.send({ type: 'stop' } satisfies Request);
      else this.child.stdin!.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_MS);
      await this.exited;
      clearTimeout(timer);
    }
  }

  private ask(request: Request): Promise<Reply> {
    const reply = nextReply(this.child, REPLY_MS, `a reply to ${request.type}`);
    this.child.send(request);
    return Promise.race([reply, this.crashed]);
  }
}

function spawnNode(implementation: Implementation, protocol: Protocol, options: StartOptions): ChildProcess {
  const profile = options.profileDir === undefined ? [] : [path.join(options.profileDir, `${implementation}-${protocol}-${Date.now()}.cpuprofile`)];
  const script = path.join(ROOT, 'bench', 'servers', `${implementation}.ts`);
  const cores = options.setup?.allCores ? '0-1' : String(options.core);
  return spawn('taskset', ['-c', cores, process.execPath, '--expose-gc', '-r', 'ts-node/register', script, protocol, ...profile], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, [SETUP_ENV]: JSON.stringify(options.setup ?? {}) },
  });
}

function spawnPython(protocol: Protocol, options: StartOptions): ChildProcess {
  const script = path.join(ROOT, 'bench', 'servers', 'asyncio_server.py');
  return spawn('taskset', ['-c', String(options.core), 'python3', script, protocol], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The asyncio server's `listening PORT` line on its stdout. */
function listeningLine(child: ChildProcess): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => done(new Error(`timed out after ${STARTUP_MS} ms waiting for the asyncio server to start`)), STARTUP_MS);
    const onExit = (code: number | null) => done(new Error(`asyncio server exited with code ${code} before listening`));
    const onError = (err: Error) => done(new Error(`asyncio server: ${err.message}`));
    const done = (err: Error | undefined, port?: number) => {
      clearTimeout(timer);
      lines.close();
      child.off('exit', onExit).off('error', onError);
      if (err) reject(err);
      else resolve({ type: 'listening', port: port! });
    };
    lines.once('line', (line) => {
      const match = /^listening (\d+)$/.exec(line);
      done(match ? undefined : new Error(`asyncio server said ${JSON.stringify(line)}, not "listening PORT"`), Number(match?.[1]));
    });
    child.on('exit', onExit).on('error', onError);
  });
}

function probeFromOutside(pid: number): Probe {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: statusBytes(status, 'VmRSS'), peakRss: statusBytes(status, 'VmHWM'), cpuMicros: cpuMicrosOf(pid) };
}

function nextReply(child: ChildProcess, timeoutMs: number, what: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    const onMessage = (message: Reply) => done(undefined, message);
    const onExit = (code: number | null) => done(new Error(`server process exited with code ${code} while waiting for ${what}`));
    const onError = (err: Error) => done(new Error(`server process: ${err.message}`));
    const done = (err: Error | undefined, message?: Reply) => {
      clearTimeout(timer);
      child.off('message', onMessage).off('exit', onExit).off('error', onError);
      if (err) reject(err);
      else resolve(message!);
    };
    child.on('message', onMessage).on('exit', onExit).on('error', onError);
  });
}
