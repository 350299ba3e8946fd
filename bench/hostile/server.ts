import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { statusBytes } from '../procStatus';
import { sleep, until } from './peers';

const STARTUP_MS = 30_000;
// Lines kept of a server's stderr: thousands of peers log a few lines each; past this, counted only.
const MAX_LINES_KEPT = 100_000;

/** The command that serves, and where it runs: `npx rxwire` in a project where the tarball is installed. */
export interface Command {
  readonly argv: readonly string[];
  readonly cwd: string;
}

export interface Usage {
  readonly descriptors: number;
  readonly rssBytes: number;
  /** VmHWM: the highest RSS since the process started or `resetPeak()`. */
  readonly peakRssBytes: number;
}

/**
 * A server command started as a user starts it, in a process group of its own: the launcher
 * (npx, and the shell it runs) and under it the server process, found as the launcher's deepest
 * descendant, whose descriptors and memory are read from /proc. Its stderr is split on `\n`
 * alone (not readline, which also splits on a raw `\r`), so a line a peer forged would show.
 */
export class ServerUnderTest {
  readonly stderrLines: string[] = [];
  stderrLinesDropped = 0;
  /** The launcher's exit code (or signal), whenever it exits. */
  readonly launcherExit: Promise<string>;
  private partial = '';

  private constructor(
    readonly launcher: ChildProcess,
    readonly stdoutLines: string[],
  ) {
    this.launcherExit = new Promise((resolve) => launcher.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`)));
    launcher.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.keep(chunk));
  }

  /** Starts `command` with `flags`; with `listening` false, resolves at once (for a start that should fail). */
  static async start(command: Command, flags: readonly string[], listening = true): Promise<ServerUnderTest> {
    const [file, ...args] = command.argv;
    const launcher = spawn(file!, [...args, ...flags], { cwd: command.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    launcher.on('error', () => {});
    const stdoutLines: string[] = [];
    launcher.stdout!.setEncoding('utf8').on('data', (chunk: string) => stdoutLines.push(...chunk.split('\n').filter((line) => line !== '')));
    const server = new ServerUnderTest(launcher, stdoutLines);
    if (!listening) return server;
    const up = await until(() => server.address !== undefined || launcher.exitCode !== null, STARTUP_MS);
    if (up === undefined || server.address === undefined) {
      server.kill();
      throw new Error(`${command.argv.join(' ')} ${flags.join(' ')}: no "listening on" line (${server.stderrLines.slice(-3).join(' / ') || 'nothing on stderr'})`);
    }
    return server;
  }

  /** What follows `listening on ` (`127.0.0.1:41234`, `tls 127.0.0.1:41234`, `unix:/tmp/s.sock`). */
  get address(): string | undefined {
    return this.stdoutLines.find((line) => line.startsWith('listening on '))?.slice('listening on '.length);
  }

  get port(): number {
    return Number(/:(\d+)$/.exec(this.address ?? '')?.[1]);
  }

  /** The server process: the launcher's deepest descendant (the launcher itself when it serves). */
  get pid(): number {
    let pid = this.launcher.pid!;
    for (let depth = 0; depth < 8; depth++) {
      const children = childrenOf(pid);
      if (children.length === 0) break;
      pid = children[children.length - 1]!;
    }
    return pid;
  }

  usage(pid = this.pid): Usage {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { descriptors: readdirSync(`/proc/${pid}/fd`).length, rssBytes: statusBytes(status, 'VmRSS'), peakRssBytes: statusBytes(status, 'VmHWM') };
  }

  /** Read system calls so far (`/proc/PID/io` syscr): how many reads a trickle took. */
  readCalls(pid = this.pid): number {
    return Number(/^syscr: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1]);
  }

  /** VmHWM from now on is the highest RSS since this call (Linux: 5 to clear_refs). */
  resetPeak(pid = this.pid): void {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  }

  /** Stderr lines from index `from` on that match `pattern`. */
  linesSince(from: number, pattern: RegExp): string[] {
    return this.stderrLines.slice(from).filter((line) => pattern.test(line));
  }

  /** Signals the server process (not its launcher) and waits up to `ms` for it to be gone; its exit time in ms, or undefined. */
  async signal(name: NodeJS.Signals, ms: number, pid = this.pid): Promise<number | undefined> {
    const started = Date.now();
    process.kill(pid, name);
    const gone = await until(() => !isAlive(pid), ms);
    return gone === undefined ? undefined : Date.now() - started;
  }

  /** Ends the whole process group at once: the row is over. */
  kill(): void {
    try {
      process.kill(-this.launcher.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /** Ends the row's server: SIGTERM, then the whole group once it has had `ms`; waits for the launcher. */
  async stop(ms = 10_000): Promise<void> {
    const pid = this.pid;
    if (isAlive(pid)) await this.signal('SIGTERM', ms, pid).catch(() => undefined);
    this.kill();
    await Promise.race([this.launcherExit, sleep(ms)]);
  }

  private keep(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) {
      if (this.stderrLines.length < MAX_LINES_KEPT) this.stderrLines.push(line);
      else this.stderrLinesDropped++;
    }
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8')
        .split(' ')
        .filter((field) => field.trim() !== '')
        .map(Number),
    );
  } catch {
    return [];
  }
}

/** Alive and not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
