import * as net from 'node:net';
import { delay, dial } from './net';

// The client side of spec/support/greetingHandler.ts: which server process answered, and what it saw.

export interface Greeted {
  socket: net.Socket;
  /** The process that answered, and the client address it saw. */
  pid: number;
  remote: string;
}

/** Connects to 127.0.0.1:`port` and reads the greeting line, `PID REMOTE`, within 5 s. */
export async function greet(port: number): Promise<Greeted> {
  const socket = await dial({ port });
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no greeting within 5 s, got ${JSON.stringify(text)}`)), 5000);
    socket.on('data', function onData(chunk: Buffer) {
      text += chunk.toString('latin1');
      if (!text.includes('\n')) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(text.slice(0, text.indexOf('\n')));
    });
    socket.once('close', () => reject(new Error(`closed before its greeting, got ${JSON.stringify(text)}`)));
  });
  const [pid, remote] = line.split(' ');
  return { socket, pid: Number(pid), remote: remote! };
}

/** Sends `text` and resolves with the reply (the handler answers in upper case), within 5 s. */
export function ask(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(text)} within 5 s`)), 5000);
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(chunk.toString());
    });
    socket.write(text);
  });
}

/** Greets until `done` holds of the greetings so far, keeping each connection open; at most `tries` greetings. */
export async function greetUntil(port: number, done: (greeted: readonly Greeted[]) => boolean, tries = 20): Promise<Greeted[]> {
  const greeted: Greeted[] = [];
  while (!done(greeted)) {
    if (greeted.length >= tries) throw new Error(`not done after ${tries} connections: pids ${greeted.map((g) => g.pid).join(', ')}`);
    greeted.push(await greet(port));
  }
  return greeted;
}

/**
 * Connections to two different processes (the first two seen), and every connection opened to find
 * them. The kernel, not a round robin, picks the worker that accepts: evenly on a quiet machine,
 * but a loaded one can give one worker many connections in a row.
 */
export async function oneFromEachOfTwo(port: number): Promise<[Greeted, Greeted, Greeted[]]> {
  const all = await greetUntil(port, (greeted) => new Set(greeted.map((g) => g.pid)).size === 2, 60);
  const first = all[0]!;
  return [first, all.find((g) => g.pid !== first.pid)!, all];
}

/**
 * Greets every 200 ms until a process not in `known` answers, within `ms`: a restarted worker.
 * Every connection opened is pushed to `opened`, for the caller to close.
 */
export async function greetNewcomer(port: number, known: readonly number[], ms: number, opened: net.Socket[]): Promise<Greeted> {
  const deadline = Date.now() + ms;
  for (;;) {
    const greeted = await greet(port);
    opened.push(greeted.socket);
    if (!known.includes(greeted.pid)) return greeted;
    if (Date.now() > deadline) throw new Error(`no process but ${known.join(', ')} answered within ${ms} ms`);
    await delay(200);
  }
}
