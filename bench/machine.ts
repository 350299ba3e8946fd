import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kernel: string;
}

/** What the README's figures were measured on. */
export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    // All online CPUs, as `nproc` counts them before the bench pins itself to one.
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kernel: os.release(),
  };
}

/** Pins this process and all its threads to `core`. */
export function pinToCore(core: number): void {
  execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', String(core), String(process.pid)], { stdio: 'ignore' });
}

/**
 * File descriptors a process of the bench may open. Node raises its soft limit to the hard one at
 * startup, and the server processes inherit the same, so this holds for both sides.
 */
export function openFileLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === undefined || soft === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(soft);
}

/** Local ports the kernel hands out to outgoing connections (`net.ipv4.ip_local_port_range`). */
export function ephemeralPorts(): number {
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  return high - low + 1;
}

// Linux's USER_HZ: /proc counts CPU time in these ticks.
const TICKS_PER_SECOND = 100;

/** User-mode CPU seconds process `pid` has spent. */
export function processUserSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself hold spaces: state is 3rd, utime the 14th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) / TICKS_PER_SECOND;
}
