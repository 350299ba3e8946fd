import { readFileSync } from 'node:fs';

/** A `kB` line of /proc/PID/status, in bytes. */
export function statusBytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (match === null) throw new Error(`/proc status has no ${field}`);
  return Number(match[1]) * 1024;
}

// Linux's USER_HZ: /proc counts CPU time in these ticks.
const TICKS_PER_SECOND = 100;

/** User plus system CPU time a process has used, in microseconds, from /proc/PID/stat. */
export function cpuMicrosOf(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may itself hold spaces: utime is the 14th, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
}
