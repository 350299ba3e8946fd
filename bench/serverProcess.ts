import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { cpuMicrosOf, statusBytes } from './procStatus';
import { ServerSpec } from './servers';

const ROOT = path.resolve(__dirname, '..');
const LISTENING = /^listening on (.*):(\d+)$/;
const POLL_MS = 20;
const STOP_MS = 3_000;
// Writing a CPU profile at exit takes a while.
const STOP_PROFILED_MS = 15_000;
const TAIL_BYTES = 600;

export interface StartOptions {
  readonly core: number;
  readonly startupMs: number;
  /** Its stdout and stderr go to files here, so that the kernel, not the bench, drains its log lines. */
  readonly scratchDir: string;
  /** Node flags before the script: `--cpu-prof …` with --profile. */
  readonly nodeFlags?: readonly string[];
}

/**
 * A server under test: `taskset -c CORE COMMAND --port 0`, measured through /proc. The measured
 * processes are those of its tree that hold the listening socket, as ../shared/bench finds them.
 */
export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly host: string,
    readonly port: number,
    readonly pids: readonly number[],
    private readonly logs: readonly string[],
    private readonly stopMs: number,
  ) {}

  static async start(spec: ServerSpec, options: StartOptions): Promise<ServerProcess> {
    const out = path.join(options.scratchDir, 'server.out');
    const err = path.join(options.scratchDir, 'server.err');
    const [command, ...args] = spec.command;
    const flags = command === 'node' && options.nodeFlags ? options.nodeFlags : [];
    const fds = [openSync(out, 'w'), openSync(err, 'w')];
    const child = spawn('taskset', ['-c', String(options.core), command, ...flags, ...args, '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', fds[0], fds[1]],
      detached: true,
    });
    fds.forEach((fd) => closeSync(fd));
    child.on('error', () => {});
    const stopMs = flags.length > 0 ? STOP_PROFILED_MS : STOP_MS;
    const deadline = performance.now() + options.startupMs;
    for (;;) {
      const match = readFileSync(out, 'utf8')
        .split('\n')
        .map((line) => LISTENING.exec(line.replace(/\r$/, '')))
        .find((m) => m !== null);
      if (match) {
        const port = Number(match[2]);
        // An IPv6 listener (`[::]:PORT`, `[::1]:PORT`) is reached on ::1.
        const host = ['::1', '::'].includes(match[1].replace(/^\[|\]$/g, '')) ? '::1' : '127.0.0.1';
        const pids = await listenersOf(child.pid!, port);
        return new ServerProcess(child, host, port, pids, [out, err], stopMs);
      }
      const exited = child.exitCode !== null || child.signalCode !== null;
      if (exited || performance.now() > deadline) {
        const server = new ServerProcess(child, '', 0, [], [out, err], stopMs);
        await server.stop();
        throw new Error(`${spec.name}: ${exited ? `exited (${child.exitCode ?? child.signalCode}) before listening` : `no "listening on HOST:PORT" within ${options.startupMs / 1000} s`}: ${server.tail()}`);
      }
      await delay(POLL_MS);
    }
  }

  /** Resident memory of the measured processes, in KiB; undefined once they are gone. */
  rssKiB(): number | undefined {
    let total: number | undefined;
    for (const pid of this.pids) {
      try {
        total = (total ?? 0) + statusBytes(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS') / 1024;
      } catch {
        // gone
      }
    }
    return total;
  }

  /** User plus system CPU time of the measured processes, in seconds. */
  cpuSeconds(): number {
    return this.pids.reduce((sum, pid) => sum + (alive(pid) ? cpuMicrosOf(pid) / 1e6 : 0), 0);
  }

  alive(): boolean {
    return this.pids.every(alive);
  }

  /** The end of what it printed, on one line: why it failed. */
  tail(): string {
    return this.logs
      .map((file) => {
        try {
          return readFileSync(file, 'utf8').slice(-TAIL_BYTES);
        } catch {
          return '';
        }
      })
      .join('')
      .trim()
      .replace(/\n/g, ' | ');
  }

  /** SIGTERM to its whole tree, SIGKILL to what is left after a while. */
  async stop(): Promise<void> {
    const tree = [...new Set([...processTree(this.child.pid!), ...this.pids])];
    for (const [signal, waitMs] of [['SIGTERM', this.stopMs], ['SIGKILL', STOP_MS]] as const) {
      const left = tree.filter(alive);
      if (left.length === 0 && this.child.exitCode !== null) return;
      for (const pid of left) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
      const until = performance.now() + waitMs;
      while (performance.now() < until && (tree.some(alive) || (this.child.exitCode === null && this.child.signalCode === null))) await delay(POLL_MS);
    }
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]);
  } catch {
    return false;
  }
}

/** `root` and its descendants, by the parent links in /proc. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree: number[] = [];
  for (const stack = [root]; stack.length > 0; ) {
    const pid = stack.pop()!;
    if (tree.includes(pid)) continue;
    tree.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** The processes of `root`'s tree holding the socket that listens on `port` (wrappers such as npx are not measured); `root` if none is found. */
async function listenersOf(root: number, port: number): Promise<number[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const sockets = new Set([...listeningInodes(port)].map((inode) => `socket:[${inode}]`));
    const found = processTree(root).filter((pid) => {
      try {
        return readdirSync(`/proc/${pid}/fd`).some((fd) => {
          try {
            return sockets.has(readlinkSync(`/proc/${pid}/fd/${fd}`));
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    });
    if (found.length > 0) return found;
    await delay(50);
  }
  return [root];
}

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      // State 0A is LISTEN; the local address is HEX_IP:HEX_PORT.
      if (fields.length >= 10 && fields[3] === '0A' && parseInt(fields[1].split(':').pop()!, 16) === port) inodes.add(fields[9]);
    }
  }
  return inodes;
}
