import { readFileSync } from 'node:fs';

// The process that started a server program, watched so that a server is never left behind
// accepting when it dies of a signal it did not pass on (SIGKILL to `npx`).

// How often a server checks that the process that started it is still there.
const CHECK_MS = 500;
// The shells npm runs a bin or a script through (`sh -c 'rxwire' …`).
const SHELLS = new Set(['sh', 'dash', 'bash']);

/** Who started this process: its parent, and when that is the shell npm ran it through, npm itself. */
export interface Launcher {
  readonly parent: number;
  /** npm (`npx`, `npm start`), the shell's own parent, when the parent is the shell npm ran this through. */
  readonly shellParent?: number;
}

/**
 * This process's launcher, read now: before listening, since a launcher killed as soon as it
 * sees `listening on` may be gone before the lines after that run. npx and `npm run` start a
 * command through `sh -c`, which stays the command's parent when npm is killed: so under npm
 * (its `npm_lifecycle_event` set) a shell parent's own parent is watched too. Linux only (/proc);
 * elsewhere, the parent alone.
 */
export function launcherNow(): Launcher {
  const parent = process.ppid;
  if (process.env.npm_lifecycle_event === undefined) return { parent };
  const shell = processStat(parent);
  return shell !== undefined && SHELLS.has(shell.command) ? { parent, shellParent: shell.parent } : { parent };
}

/** Calls `gone` once `launcher` has exited: this process's parent has changed, or npm has left its shell behind. */
export function watchLauncher(launcher: Launcher, gone: () => void): void {
  const check = setInterval(() => {
    if (process.ppid === launcher.parent && !shellLeftBehind(launcher)) return;
    clearInterval(check);
    gone();
  }, CHECK_MS);
  check.unref();
}

/**
 * Whether the shell npm ran this through now has another parent. A stat that cannot be read
 * (out of descriptors, /proc hidden) tells nothing: a shell that is gone changes `process.ppid`.
 */
function shellLeftBehind({ parent, shellParent }: Launcher): boolean {
  if (shellParent === undefined) return false;
  const now = processStat(parent)?.parent;
  return now !== undefined && now !== shellParent;
}

/** A process's command name and parent, from `/proc/PID/stat`; undefined when it is gone or there is no /proc. */
function processStat(pid: number): { command: string; parent: number } | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** @internal `PID (COMMAND) STATE PPID …`, as /proc gives it: the command may hold spaces and parentheses, so it ends at the last `)`. */
export function parseStat(stat: string): { command: string; parent: number } | undefined {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const parent = Number(stat.slice(close + 2).split(' ')[1]);
  return open < 0 || close < open || !Number.isInteger(parent) ? undefined : { command: stat.slice(open + 1, close), parent };
}
