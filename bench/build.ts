import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** Where the C programs are built: the source tree may be read-only, and binaries are not committed. */
export const BUILD_DIR = process.env.BENCH_BUILD ?? path.join(tmpdir(), 'rxwire-bench-build');

/** The C load generator and the C reference server, built with `gcc -O2` when missing or older than their source. */
export function buildCPrograms(say: (line: string) => void): { loadgen: string; upperEpoll: string } {
  mkdirSync(BUILD_DIR, { recursive: true });
  return { loadgen: compile('loadgen', say), upperEpoll: compile('upper-epoll', say) };
}

function compile(name: string, say: (line: string) => void): string {
  const source = path.join(__dirname, 'load', `${name}.c`);
  const binary = path.join(BUILD_DIR, name);
  if (modifiedMs(binary) > modifiedMs(source)) return binary;
  say(`building ${binary} (gcc -O2)`);
  execFileSync('gcc', ['-O2', '-Wall', '-o', `${binary}.tmp`, source], { stdio: ['ignore', 'inherit', 'inherit'] });
  renameSync(`${binary}.tmp`, binary);
  return binary;
}

function modifiedMs(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}
