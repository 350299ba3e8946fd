import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const INSTALL_MS = 300_000;

/**
 * A fresh project in a temp dir with this checkout's packed tarball installed, and its peers, as a
 * user installs rxwire: `npm pack`, then `npm install ./rxwire-X.tgz rxjs io-ts fp-ts`.
 */
export function freshProject(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rxwire-hostile-project-'));
  execFileSync('npm', ['pack', '--pack-destination', dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: INSTALL_MS });
  const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`npm pack left no tarball in ${dir}`);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'hostile-peers', version: '1.0.0', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', `./${tarball}`, 'rxjs', 'io-ts', 'fp-ts'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: INSTALL_MS,
  });
  return dir;
}

/**
 * Handler modules the rows serve with `--handler FILE`, written where there is no node_modules:
 * their imports of rxwire, rxjs and io-ts get the command's own copies.
 */
const HANDLERS = {
  // Answers the first read and ends: the server ends its side while the peer may go on.
  take1: `import { map, pipe, take } from 'rxjs';
import { upperBytes } from 'rxwire/handlers/upper';
export default pipe(take(1), map(upperBytes));`,
  // Lines (the default 64 KiB limit) answered uppercased.
  lines: `import { map, pipe } from 'rxjs';
import { encodeLines, lines } from 'rxwire';
import { upperBytes } from 'rxwire/handlers/upper';
export default pipe(lines(), map(upperBytes), encodeLines());`,
  // Frames behind a 4-byte length (the default 16 MiB limit), each answered with its length.
  frames: `import { map, pipe } from 'rxjs';
import { encodeLines, lengthPrefixed } from 'rxwire';
export default pipe(lengthPrefixed({ headerBytes: 4 }), map((frame) => Buffer.from(String(frame.length))), encodeLines());`,
  // Emits what a read names instead of a Buffer: two strings, a number or null; echoes anything else.
  faulty: `import { from, mergeMap, of } from 'rxjs';
const faults = { strings: ['a', 'b'], number: [42], null: [null] };
export default (input) => input.pipe(mergeMap((chunk) => from(faults[chunk.toString()] ?? [chunk])));`,
  // Every line parsed as JSON of any shape and written back, or {"error": …}.
  anyJson: `import { map, pipe } from 'rxjs';
import * as t from 'io-ts';
import { encodeJson, encodeLines, json, lines } from 'rxwire';
export default pipe(lines({ maxLength: 1 << 20 }), json(t.unknown), map((r) => (r._tag === 'Left' ? { error: r.left.message } : r.right)), encodeJson(), encodeLines());`,
  // Lines of {"n": number}; anything else ends the connection with the DecodeError, which is logged.
  strictJson: `import { mergeMap, of, pipe, throwError } from 'rxjs';
import * as t from 'io-ts';
import { encodeJson, encodeLines, json, lines } from 'rxwire';
export default pipe(lines(), json(t.type({ n: t.number })), mergeMap((r) => (r._tag === 'Left' ? throwError(() => r.left) : of(r.right))), encodeJson(), encodeLines());`,
  // Lines whose frame deadline is 10 s instead of the default 2 minutes: slowloris, scaled down.
  slowLines: `import { map, pipe } from 'rxjs';
import { encodeLines, lines } from 'rxwire';
import { upperBytes } from 'rxwire/handlers/upper';
export default pipe(lines({ frameTimeoutMs: 10000 }), map(upperBytes), encodeLines());`,
} as const;

export type HandlerName = keyof typeof HANDLERS;

/** Writes every handler module into `dir`; returns each one's path. */
export function writeHandlers(dir: string): Record<HandlerName, string> {
  const paths = {} as Record<HandlerName, string>;
  for (const [name, source] of Object.entries(HANDLERS) as [HandlerName, string][]) {
    paths[name] = path.join(dir, `${name}.mjs`);
    writeFileSync(paths[name], `${source}\n`);
  }
  return paths;
}

export interface Certificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
}

/** A self-signed certificate for localhost and 127.0.0.1, made with openssl. */
export function selfSigned(dir: string): Certificate {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { stdio: 'ignore', timeout: 30_000 },
  );
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8') };
}
