import * as net from 'node:net';
import * as tls from 'node:tls';

// Plain node:net and node:tls peers, on loopback only, every wait bounded.

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the ms it took for `predicate` to hold, checked every `pollMs`; undefined after `ms`. */
export async function until(predicate: () => boolean, ms: number, pollMs = 100): Promise<number | undefined> {
  const started = Date.now();
  for (;;) {
    if (predicate()) return Date.now() - started;
    if (Date.now() - started > ms) return undefined;
    await sleep(pollMs);
  }
}

/** Where a peer connects: a loopback port, or a Unix socket path. */
export type Target = { readonly port: number } | { readonly path: string };

const CONNECT_MS = 5000;

/** A connected socket, or a rejection after `CONNECT_MS`; errors after connecting are ignored (a hostile peer is cut). */
export function dial(target: Target): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // Half-open allowed: a peer that never closes stays open after the server's end.
    const socket = 'path' in target ? net.connect({ path: target.path, allowHalfOpen: true }) : net.connect({ host: '127.0.0.1', port: target.port, allowHalfOpen: true });
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('connect timed out'))), CONNECT_MS);
    socket.once('connect', () => (clearTimeout(timer), socket.on('error', () => {}), resolve(socket)));
    socket.once('error', (err) => (clearTimeout(timer), reject(err)));
  });
}

/** A TLS client that trusts `ca`, once its handshake is done. */
export function dialTls(port: number, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('tls connect timed out'))), CONNECT_MS);
    socket.once('secureConnect', () => (clearTimeout(timer), socket.on('error', () => {}), resolve(socket)));
    socket.once('error', (err) => (clearTimeout(timer), reject(err)));
  });
}

/** Dials `target` `count` times, `inFlight` at a time; sockets that could not connect are left out. */
export async function dialMany(target: Target, count: number, inFlight = 100): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let done = 0; done < count; done += inFlight) {
    const batch = await Promise.all(Array.from({ length: Math.min(inFlight, count - done) }, () => dial(target).catch(() => undefined)));
    sockets.push(...batch.filter((socket): socket is net.Socket => socket !== undefined));
  }
  return sockets;
}

/** Everything `socket` receives until its peer ends or it closes, or what came within `ms`. */
export function readAll(socket: net.Socket, ms = 10_000): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = () => (clearTimeout(timer), resolve(Buffer.concat(chunks)));
    const timer = setTimeout(done, ms);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', done).once('close', done);
  });
}

/** Connects, sends `message`, half-closes and returns the whole reply ('' when refused or cut). */
export async function exchange(connect: () => Promise<net.Socket>, message: string | Buffer, ms = 10_000): Promise<string> {
  const socket = await connect().catch(() => undefined);
  if (socket === undefined) return '';
  const reply = readAll(socket, ms);
  socket.end(message);
  const text = (await reply).toString('latin1');
  socket.destroy();
  return text;
}

/** The next data `socket` receives after sending `message`, as text, or '' after `ms`. */
export function ask(socket: net.Socket, message: string, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => done(chunk.toString('latin1'));
    const done = (text: string) => (clearTimeout(timer), socket.off('data', onData), resolve(text));
    const timer = setTimeout(() => done(''), ms);
    socket.on('data', onData);
    socket.write(message);
  });
}

/** True once the server has ended or cut `socket` (its 'end', or its 'close' when reset), within `ms`. */
export function endedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ended: boolean) => (clearTimeout(timer), socket.off('end', onEnd).off('close', onEnd), resolve(ended));
    const onEnd = () => done(true);
    const timer = setTimeout(() => done(false), ms);
    socket.once('end', onEnd).once('close', onEnd);
  });
}
