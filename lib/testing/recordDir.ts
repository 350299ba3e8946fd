import { accessSync, constants, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

// Where `record()` may write: checked before the directory is made, since making one in the wrong
// place fails badly (under /proc, Node 20's recursive mkdirSync spins for ever).

// Filesystems of the kernel's own (statfs f_type), which hold no files of ours.
const KERNEL_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x1cd1, 'devpts'],
  [0xcafe4a11, 'bpf'],
  [0x6165676c, 'pstore'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0x65735543, 'fusectl'],
  [0x6e736673, 'nsfs'],
]);

/**
 * Why `dir` cannot hold recordings, or undefined when it can: its nearest existing ancestor (itself,
 * if it exists) must be a directory, writable, on a filesystem for files.
 */
export function recordDirProblem(dir: string): string | undefined {
  const target = resolve(dir);
  const problem = whyNot(target);
  return problem === undefined || problem.startsWith(target) ? problem : `${target}: ${problem}`;
}

function whyNot(target: string): string | undefined {
  let existing = target;
  for (;;) {
    try {
      if (!statSync(existing).isDirectory()) return `${existing} is not a directory`;
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR: a file on the way, found on the way up.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(existing) === existing) return `${existing}: ${(err as Error).message}`;
      existing = dirname(existing);
    }
  }
  const kind = KERNEL_FILESYSTEMS.get(Number(statfsSync(existing).type));
  if (kind !== undefined) return `${existing} is on ${kind}, a filesystem of the kernel's, not one for files`;
  try {
    accessSync(existing, constants.W_OK);
  } catch (err) {
    return `${existing} is not writable (${(err as NodeJS.ErrnoException).code})`;
  }
  return undefined;
}
