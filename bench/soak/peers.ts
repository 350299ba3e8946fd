import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { KiB, MiB } from '../format';
import { Payload } from './payload';

// What each kind of soak peer does to the server, and the check of every byte it gets back.

/** How the server under soak is set up: the peers' deadlines follow from these. */
export interface Target {
  readonly port: number;
  /** The server's --idle-ms. */
  readonly idleMs: number;
  /** The server's linger deadline once it has ended its side (lingerMs, 5 s by default). */
  readonly lingerMs: number;
}

export type PeerKind =
  | 'bulk'
  | 'ping-pong'
  | 'churn'
  | 'slow reader'
  | 'cut mid-stream'
  | 'silent after reply'
  | 'silent from start'
  | 'never reads'
  | 'one more byte then close'
  | 'one more byte then stay';

export const VANISHING: readonly PeerKind[] = [
  'cut mid-stream',
  'silent after reply',
  'silent from start',
  'never reads',
  'one more byte then close',
  'one more byte then stay',
];

// Few enough first problems to read in a report; the counts keep the rest.
const PROBLEMS_KEPT = 10;

/** What all peers have verified and seen go wrong so far. */
export class Tally {
  verifiedBytes = 0;
  verifiedMessages = 0;
  /** Peers whose echo had a wrong byte, or more bytes than they sent. */
  mismatches = 0;
  /** Peers that ended otherwise than their kind expects (a reset, a timeout, a short echo). */
  failures = 0;
  readonly sessions = new Map<PeerKind, number>();
  readonly problems: string[] = [];
  /** Sockets of peers now open, so that the soak can close what is left at the end. */
  readonly open = new Set<net.Socket>();

  finished(kind: PeerKind): void {
    this.sessions.set(kind, (this.sessions.get(kind) ?? 0) + 1);
  }

  problem(kind: PeerKind, err: unknown): void {
    if (err instanceof Mismatch) this.mismatches++;
    else this.failures++;
    if (this.problems.length < PROBLEMS_KEPT) this.problems.push(`${kind}: ${(err as Error).message}`);
  }

  get totalSessions(): number {
    let total = 0;
    for (const count of this.sessions.values()) total += count;
    return total;
  }
}

class Mismatch extends Error {}

class Failure extends Error {}

const CONNECT_MS = 5_000;

function dial(target: Target, tally: Tally): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port: target.port, allowHalfOpen: true, noDelay: true });
  tally.open.add(socket);
  socket.once('close', () => tally.open.delete(socket));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Failure(`no connection within ${CONNECT_MS} ms`)), CONNECT_MS);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/**
 * One peer's socket and the check of its echo: every chunk that arrives is compared with the
 * uppercased payload at its offset, and counted in the tally once right.
 */
class Watched {
  received = 0;
  ended = false;
  closed = false;
  error: Error | undefined;
  wrong: Mismatch | undefined;
  private readonly changed = new Set<() => void>();

  constructor(
    readonly socket: net.Socket,
    private readonly payload: Payload,
    private readonly start: number,
    private readonly tally: Tally,
    /** Bytes sent so far: an echo past them is wrong however it looks. */
    private readonly sent: () => number,
  ) {
    socket.on('data', (chunk: Buffer) => this.check(chunk));
    socket.once('end', () => this.update(() => (this.ended = true)));
    socket.once('close', () => this.update(() => (this.closed = true)));
    socket.on('error', (err) => this.update(() => (this.error ??= err)));
    socket.on('drain', () => this.update(() => {}));
  }

  /** Resolves once `done()` holds; rejects on a wrong byte, on `ms` passing, or when the socket closes first. */
  until(done: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = () => {
        if (this.wrong) return finish(this.wrong);
        if (done()) return finish();
        if (this.closed) return finish(new Failure(`closed (${this.error?.message ?? 'no error'}) after ${this.received} bytes, waiting for ${what}`));
      };
      const timer = setTimeout(() => finish(new Failure(`no ${what} within ${ms} ms (${this.received} bytes echoed)`)), ms);
      const finish = (err?: Error) => {
        clearTimeout(timer);
        this.changed.delete(settle);
        if (err) reject(err);
        else resolve();
      };
      this.changed.add(settle);
      settle();
    });
  }

  private check(chunk: Buffer): void {
    if (this.wrong) return;
    const at = this.mismatchIn(chunk);
    if (at !== undefined) {
      this.wrong = new Mismatch(at);
      this.socket.destroy();
    } else {
      this.received += chunk.length;
      this.tally.verifiedBytes += chunk.length;
    }
    this.update(() => {});
  }

  private mismatchIn(chunk: Buffer): string | undefined {
    if (this.received + chunk.length > this.sent()) return `echoed ${this.received + chunk.length} bytes, ${this.sent()} sent`;
    const wrong = this.payload.mismatchAt(chunk, this.start + this.received);
    if (wrong < 0) return undefined;
    const at = this.received + wrong;
    return `echo byte ${at} is 0x${hex(chunk[wrong])}, expected 0x${hex(this.payload.echoByteAt(this.start + at))}`;
  }

  private update(change: () => void): void {
    change();
    for (const settle of [...this.changed]) settle();
  }
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** Sends the payload from `start` and watches its echo; `sent` counts what went to write(). */
class Sender {
  sent = 0;
  readonly watched: Watched;
  /** Our port, kept: a socket forgets it once closed. */
  readonly localPort: number;

  constructor(
    socket: net.Socket,
    private readonly payload: Payload,
    private readonly start: number,
    tally: Tally,
  ) {
    this.watched = new Watched(socket, payload, start, tally, () => this.sent);
    this.localPort = socket.localPort!;
  }

  get socket(): net.Socket {
    return this.watched.socket;
  }

  /** Writes `bytes` more; returns false when the socket's buffer is full, like write(). */
  write(bytes: number): boolean {
    const piece = this.payload.bytesAt(this.start + this.sent, bytes);
    this.sent += bytes;
    return this.socket.write(piece);
  }

  /**
   * Writes `bytes` more in 64 KiB writes, waiting for drain when told to, at most
   * `bytesPerSecond`; stops early if the socket closes.
   */
  async stream(bytes: number, bytesPerSecond: number): Promise<void> {
    const began = performance.now();
    const end = this.sent + bytes;
    const first = this.sent;
    while (this.sent < end && !this.watched.closed) {
      const full = !this.write(Math.min(WRITE_SIZE, end - this.sent));
      if (full) await this.watched.until(() => this.socket.writableLength === 0, STALL_MS, 'drain');
      const ahead = ((this.sent - first) / bytesPerSecond) * 1000 - (performance.now() - began);
      if (ahead > 1) await sleep(ahead);
    }
  }
}

const WRITE_SIZE = 64 * KiB;
// Longer than any wait the server may impose on a peer that reads: a stall past it is a failure.
const STALL_MS = 30_000;
// Each streaming peer sends at most this fast, so that the soak is about leaks, not throughput.
const STREAM_RATE = 8 * MiB;
// Enough for the echo to back up into the server, which then stops reading and stalls.
const NEVER_READ_BYTES = 8 * MiB;
// Between a ping-pong peer's messages: moderate load on a shared machine.
const PING_PONG_GAP_MS = 1;
// How long a slow reader waits after each chunk it reads before it reads again: about 3 MiB/s,
// under the writers' 8. At 50 ms (~1.3 MiB/s) the server's 2 s idle timeout cuts some of them: it
// sees only its own flushes, and the kernel's buffers, MiBs on loopback, hide the peer's reads.
const SLOW_READ_PAUSE_MS = 20;

/** A random whole number in [low, high]. */
function between(low: number, high: number): number {
  return low + Math.floor(Math.random() * (high - low + 1));
}

/** One session of a peer of `kind`, from connect to close; counted in the tally, never thrown. */
export async function runPeer(kind: PeerKind, target: Target, payload: Payload, tally: Tally): Promise<void> {
  let socket: net.Socket | undefined;
  try {
    socket = await dial(target, tally);
    const sender = new Sender(socket, payload, between(0, payload.period - 1), tally);
    await PEERS[kind](sender, target, tally).catch((err: Error) => {
      // The port finds the connection in the server's log.
      err.message = `from port ${sender.localPort}: ${err.message}`;
      throw err;
    });
    tally.finished(kind);
  } catch (err) {
    tally.problem(kind, err);
  } finally {
    socket?.destroy();
  }
}

type Session = (peer: Sender, target: Target, tally: Tally) => Promise<void>;

/** Waits for the server's end after everything sent was echoed, then checks the count. */
async function echoedAndEnded(peer: Sender, ms: number): Promise<void> {
  await peer.watched.until(() => peer.watched.ended, ms, "the server's end");
  if (peer.watched.received !== peer.sent) throw new Failure(`server ended after ${peer.watched.received} of ${peer.sent} bytes`);
}

/** Echoes a small greeting, then the server must end the silent connection at its idle deadline. */
async function greetThenIdle(peer: Sender, target: Target, tally: Tally): Promise<void> {
  peer.write(between(1, 512));
  await peer.watched.until(() => peer.watched.received === peer.sent, STALL_MS, 'echo of the greeting');
  tally.verifiedMessages++;
  await peer.watched.until(() => peer.watched.ended, target.idleMs + GRACE_MS, 'end at the idle deadline');
}

/**
 * Waits until the server process no longer holds its side of this peer's connection: in
 * /proc/net/tcp the kernel's socket for it is gone or orphaned (inode 0). A peer that neither reads
 * nor closes cannot see that from its own socket.
 */
async function serverLetGo(peer: Sender, target: Target, ms: number): Promise<void> {
  const peerPort = peer.localPort;
  const deadline = performance.now() + ms;
  while (serverHolds(target.port, peerPort)) {
    if (peer.watched.wrong) throw peer.watched.wrong;
    if (performance.now() > deadline) throw new Failure(`server still holds the connection after ${ms} ms`);
    await sleep(POLL_MS);
  }
}

const POLL_MS = 250;

/** Whether a process holds the server's end of the loopback connection from `peerPort` to `serverPort`. */
function serverHolds(serverPort: number, peerPort: number): boolean {
  const local = `0100007F:${hex4(serverPort)}`;
  const remote = `0100007F:${hex4(peerPort)}`;
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n')) {
    const fields = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
    if (fields[1] === local && fields[2] === remote) return fields[9] !== '0';
  }
  return false;
}

function hex4(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

// Slack on top of a server deadline for a busy shared machine to act on it.
const GRACE_MS = 3_000;

const PEERS: Record<PeerKind, Session> = {
  /** Several MB of random bytes at a bounded rate, half-close, the whole echo verified. */
  async bulk(peer) {
    await peer.stream(between(2 * MiB, 8 * MiB), STREAM_RATE);
    peer.socket.end();
    await echoedAndEnded(peer, STALL_MS);
  },

  /** Up to a few hundred small messages, each sent once the echo of the one before is verified. */
  async 'ping-pong'(peer, _target, tally) {
    const trips = between(50, 300);
    for (let trip = 0; trip < trips; trip++) {
      peer.write(between(1, 512));
      await peer.watched.until(() => peer.watched.received === peer.sent, STALL_MS, `echo of message ${trip + 1}`);
      tally.verifiedMessages++;
      await sleep(PING_PONG_GAP_MS);
    }
    peer.socket.end();
    await echoedAndEnded(peer, STALL_MS);
  },

  /** Connect, send a few bytes with the FIN, read the echo and the server's end. */
  async churn(peer, _target, tally) {
    peer.write(between(1, 256));
    peer.socket.end();
    await echoedAndEnded(peer, STALL_MS);
    tally.verifiedMessages++;
  },

  /** Sends several MB and reads them back in pauses: the server must hold off, not buffer. */
  async 'slow reader'(peer) {
    peer.socket.on('data', () => {
      peer.socket.pause();
      setTimeout(() => peer.socket.resume(), SLOW_READ_PAUSE_MS);
    });
    await peer.stream(between(2 * MiB, 6 * MiB), STREAM_RATE);
    peer.socket.end();
    await echoedAndEnded(peer, STALL_MS * 2);
  },

  /** Streams part of a few MB and resets the connection halfway, without a FIN. */
  async 'cut mid-stream'(peer) {
    await peer.stream(between(64 * KiB, 4 * MiB), STREAM_RATE);
    await sleep(between(0, 100));
  },

  async 'silent after reply'(peer, target, tally) {
    await greetThenIdle(peer, target, tally);
    peer.socket.end();
    await peer.watched.until(() => peer.watched.closed, GRACE_MS, 'close after our end');
  },

  /** Connects and says nothing: the server's idle deadline must end it. */
  async 'silent from start'(peer, target) {
    await peer.watched.until(() => peer.watched.ended, target.idleMs + GRACE_MS, 'end at the idle deadline');
  },

  /**
   * Writes 8 MiB and never reads: once the server stalls on the full socket, its idle deadline
   * and then its linger deadline must destroy the connection.
   */
  async 'never reads'(peer, target) {
    peer.socket.pause();
    for (let written = 0; written < NEVER_READ_BYTES; written += WRITE_SIZE) peer.write(WRITE_SIZE);
    await serverLetGo(peer, target, target.idleMs + target.lingerMs + GRACE_MS);
  },

  /** After the server's idle end, one more byte and our FIN: the server must close at once. */
  async 'one more byte then close'(peer, target, tally) {
    await greetThenIdle(peer, target, tally);
    peer.socket.end(Buffer.of(0x78));
    await peer.watched.until(() => peer.watched.closed, GRACE_MS, 'close after one more byte and our end');
  },

  /** After the server's idle end, one more byte and nothing: the server's linger deadline must close it. */
  async 'one more byte then stay'(peer, target, tally) {
    await greetThenIdle(peer, target, tally);
    peer.socket.write(Buffer.of(0x78));
    await serverLetGo(peer, target, target.lingerMs + GRACE_MS);
  },
};
