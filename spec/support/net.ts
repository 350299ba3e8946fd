import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { reduce } from 'rxjs';
import { DatagramServeOptions, DatagramServer, Handler, serve, serveDatagrams, Server, ServeOptions } from 'rxwire';

export const root = path.resolve(__dirname, '..', '..');

/** A server on a free loopback port whose log lines are kept for the spec to read. */
export async function startServer(handler: Handler, options: ServeOptions = {}): Promise<Server & { logs: string[] }> {
  const logs: string[] = [];
  const server = await serve({ host: '127.0.0.1', port: 0, log: (line) => logs.push(line), ...options }, handler);
  return Object.assign(server, { logs });
}

/** A UDP server on a free loopback port whose log lines are kept for the spec to read. */
export async function startDatagramServer(handler: Handler, options: DatagramServeOptions = {}): Promise<DatagramServer & { logs: string[] }> {
  const logs: string[] = [];
  const server = await serveDatagrams({ host: '127.0.0.1', port: 0, log: (line) => logs.push(line), ...options }, handler);
  return Object.assign(server, { logs });
}

export interface Target {
  port?: number;
  host?: string;
  path?: string;
}

export function dial(target: Target): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(
      target.path !== undefined ? { path: target.path } : { host: target.host ?? '127.0.0.1', port: target.port! },
    );
    socket.once('connect', () => resolve(socket)).once('error', reject);
  });
}

/** Everything a socket receives until the peer ends it. */
export function readAll(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

/** Sends `data` in the given pieces, half-closes, and resolves with the whole reply. */
export async function roundTrip(target: Target, ...pieces: Buffer[]): Promise<Buffer> {
  const socket = await dial(target);
  const reply = readAll(socket);
  for (const piece of pieces) socket.write(piece);
  socket.end();
  const result = await reply;
  socket.destroy();
  return result;
}

/** Joins every chunk of a stream into one Buffer, emitted when the stream completes. */
export const collectBytes = reduce((all: Buffer, chunk: Buffer) => Buffer.concat([all, chunk]), Buffer.alloc(0));

/** Resolves once `predicate` holds, checking every 10 ms, or rejects after `ms`. */
export async function eventually(predicate: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Resolves with `value()` once it has not changed for `quietMs`, checking every 10 ms, or rejects after `ms`: for
 * "the server has stopped reading", without a fixed wait that a busy machine can outlast.
 */
export async function steady<T>(value: () => T, quietMs: number, ms = 20000, what = 'the value to stop changing'): Promise<T> {
  const deadline = Date.now() + ms;
  let last = value();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const now = value();
    if (now !== last) [last, since] = [now, Date.now()];
  }
  return last;
}

export function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed && !socket.connecting ? resolve() : socket.once('close', () => resolve())));
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port nobody listens on: bound, then released. */
export async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Whether this machine can listen on IPv6 loopback (`::1`). */
export async function hasIPv6(): Promise<boolean> {
  const probe = net.createServer();
  return new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false)).listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

// ---- UDP ----------------------------------------------------------------------------------------

/** A plain UDP socket bound to an ephemeral loopback port, keeping every datagram it receives. */
export async function udpClient(type: dgram.SocketType = 'udp4'): Promise<dgram.Socket & { received: Buffer[] }> {
  const socket = Object.assign(dgram.createSocket(type), { received: [] as Buffer[] });
  socket.on('message', (datagram) => socket.received.push(datagram));
  await new Promise<void>((resolve) => socket.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', resolve));
  return socket;
}

/** A UDP port nobody listens on: bound, then released. */
export async function closedUdpPort(): Promise<number> {
  const probe = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise<void>((resolve) => probe.close(resolve));
  return port;
}

/** Sends each of `datagrams` to `port` and waits until `count` replies have come (5 s at most). */
export async function udpExchange(port: number, datagrams: Buffer[], count = datagrams.length): Promise<Buffer[]> {
  const socket = await udpClient();
  try {
    for (const datagram of datagrams) socket.send(datagram, port, '127.0.0.1');
    await eventually(() => socket.received.length >= count, 5000, `${count} replies`);
    return socket.received;
  } finally {
    socket.close();
  }
}

// ---- TLS ----------------------------------------------------------------------------------------

export interface SelfSigned {
  /** PEM text of a certificate for localhost, 127.0.0.1 and ::1, and of its key. */
  cert: string;
  key: string;
  /** The same, as files, for programs' flags. */
  certFile: string;
  keyFile: string;
}

let selfSigned: SelfSigned | undefined;

/**
 * A self-signed certificate made once per test run with openssl (Node's crypto cannot make one);
 * its files are removed when the run exits.
 */
export function selfSignedCert(): SelfSigned {
  if (selfSigned) return selfSigned;
  const dir = mkdtempSync(path.join(tmpdir(), 'rxwire-tls-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  const made = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    '-keyout', keyFile, '-out', certFile,
  ], { encoding: 'utf8' });
  if (made.error || made.status !== 0) {
    throw new Error(`openssl could not make a test certificate (install it: apt-get install -y openssl): ${made.error?.message ?? made.stderr}`);
  }
  selfSigned = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
  return selfSigned;
}

// ---- Programs run as a user would, in their own process -------------------------------------

export interface Program {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
}

/** Node's flags that load the project's TypeScript cheaply (see transpile.js): for spawning a program of it. */
export const transpileFlags = ['-r', path.join(__dirname, 'transpile.js')];

/** Runs a TypeScript file of the project from source, with its types stripped: a third of a second to start. */
export function runProgram(file: string, args: string[] = []): Program {
  return runCommand(process.execPath, [...transpileFlags, path.join(root, file), ...args]);
}

/** Runs a TypeScript file of the project the way the README tells a user to: `npx ts-node FILE`. */
export function runAsReadmeSays(file: string, args: string[] = []): Program {
  return runCommand('npx', ['ts-node', file, ...args]);
}

/**
 * Runs any command (from the project's root unless told), collecting its output line by line. It gets a process
 * group of its own, so that a wrapper such as npx can be stopped with what it started.
 */
export function runCommand(command: string, args: string[], cwd = root): Program {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout!, stdout);
  collectLines(child.stderr!, stderr);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, stdout, stderr, exit };
}

/** Collects a stream's text into `into`, one entry per line. */
export function collectLines(stream: NodeJS.ReadableStream, into: string[]): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (text: string) => {
    const parts = (partial + text).split('\n');
    partial = parts.pop()!;
    into.push(...parts);
  });
  stream.on('end', () => partial && into.push(partial));
}

/** Starts a server program and waits for its `listening on ADDRESS` line. */
export function startProgram(file: string, args: string[]): Promise<Program & { address: string }> {
  return listening(runProgram(file, args));
}

/** Waits for a server program's `listening on ADDRESS` line (`ms` at most); rejects if it exits first. */
export async function listening(program: Program, ms = 20000): Promise<Program & { address: string }> {
  const exited = program.exit.then((code) => {
    throw new Error(`exited with ${code} before listening: ${program.stderr.join(' | ')}`);
  });
  await Promise.race([eventually(() => program.stdout.some((l) => l.startsWith('listening on ')), ms, 'the program to listen'), exited]);
  exited.catch(() => {});
  const address = program.stdout.find((l) => l.startsWith('listening on '))!.slice('listening on '.length);
  return { ...program, address };
}

export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/**
 * Whether a process, or for a negative number a process group, still exists. A process that has
 * exited and waits to be reaped (a zombie) does not: an orphan's new parent, PID 1 of a container
 * or VM, may take seconds to reap it.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return pid < 0 || !isZombie(pid);
}

/** Whether `pid` has exited and not yet been reaped: state Z in /proc/PID/stat, after the name in parentheses. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

/** Resident memory of a process, in bytes, from /proc. */
export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}
