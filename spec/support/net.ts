import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Handler, serve, Server, ServeOptions } from 'rxwire';

export const root = path.resolve(__dirname, '..', '..');

/** A server on a free loopback port whose log lines are kept for the spec to read. */
export async function startServer(handler: Handler, options: ServeOptions = {}): Promise<Server & { logs: string[] }> {
  const logs: string[] = [];
  const server = await serve({ host: '127.0.0.1', port: 0, log: (line) => logs.push(line), ...options }, handler);
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

/** Resolves once `predicate` holds, checking every 10 ms, or rejects after `ms`. */
export async function eventually(predicate: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed && !socket.connecting ? resolve() : socket.once('close', () => resolve())));
}

export const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- Programs run as a user would, in their own process -------------------------------------

export interface Program {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exit: Promise<number | null>;
}

/** Runs a TypeScript file of the project with ts-node, the way `npx ts-node FILE` does. */
export function runProgram(file: string, args: string[] = []): Program {
  return runCommand(process.execPath, ['-r', 'ts-node/register', path.join(root, file), ...args]);
}

/**
 * Runs any command from the project's root, collecting its output line by line. It gets a process
 * group of its own, so that a wrapper such as npx can be stopped with what it started.
 */
export function runCommand(command: string, args: string[]): Program {
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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

/** Waits for a server program's `listening on ADDRESS` line; rejects if it exits first. */
export async function listening(program: Program): Promise<Program & { address: string }> {
  const exited = program.exit.then((code) => {
    throw new Error(`exited with ${code} before listening: ${program.stderr.join(' | ')}`);
  });
  await Promise.race([eventually(() => program.stdout.some((l) => l.startsWith('listening on ')), 20000, 'the program to listen'), exited]);
  exited.catch(() => {});
  const address = program.stdout.find((l) => l.startsWith('listening on '))!.slice('listening on '.length);
  return { ...program, address };
}

export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** Resident memory of a process, in bytes, from /proc. */
export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) * 1024;
}
