import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { Implementation, Probe, Protocol, Reply, Request } from './servers/protocol';

const ROOT = path.resolve(__dirname, '..');
const STARTUP_MS = 30_000;
const REPLY_MS = 10_000;
const STOP_MS = 10_000;

export interface StartOptions {
  /** The CPU core the server is pinned to. */
  readonly core: number;
  /** Where the server writes a CPU profile of its serving time; none for no profile. */
  readonly profileDir?: string;
}

/** A server of the bench in a process of its own, pinned to one core, that answers probes of its memory and CPU. */
export class ServerProcess {
  /** Rejects when the process exits before `stop()`: a crashed server fails the run at once. */
  readonly crashed: Promise<never>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    private readonly exited: Promise<void>,
  ) {
    this.crashed = exited.then(() => {
      throw new Error(`server process exited (code ${child.exitCode}, signal ${child.signalCode})`);
    });
    this.crashed.catch(() => {});
  }

  static async start(implementation: Implementation, protocol: Protocol, options: StartOptions): Promise<ServerProcess> {
    const profile = options.profileDir === undefined ? [] : [path.join(options.profileDir, `${implementation}-${protocol}-${Date.now()}.cpuprofile`)];
    const script = path.join(ROOT, 'bench', 'servers', `${implementation}.ts`);
    const child = spawn('taskset', ['-c', String(options.core), process.execPath, '--expose-gc', '-r', 'ts-node/register', script, protocol, ...profile], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const reply = await nextReply(child, STARTUP_MS, `${implementation} server to start`).catch((err: Error) => err);
    if (!(reply instanceof Error) && reply.type === 'listening') return new ServerProcess(child, reply.port, exited);
    child.kill('SIGKILL');
    if (reply instanceof Error) throw reply;
    throw new Error(reply.type === 'failed' ? reply.reason : `unexpected reply ${reply.type} from ${implementation} server`);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Memory and CPU time now; with `collectGarbage`, after full GCs, so that only live memory counts. */
  async probe(collectGarbage = false): Promise<Probe> {
    const reply = await this.ask({ type: 'probe', collectGarbage });
    if (reply.type !== 'probe') throw new Error(`expected a probe, got ${reply.type}`);
    return reply;
  }

  /** From now on, `peakRss` is the highest RSS since this call. */
  async resetPeak(): Promise<void> {
    await this.ask({ type: 'resetPeak' });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.send({ type: 'stop' } satisfies Request);
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
