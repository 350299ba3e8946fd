import * as dgram from 'node:dgram';

export interface LossyRelayOptions {
  /** Where datagrams from clients go: a UDP server on 127.0.0.1. */
  readonly targetPort: number;
  /** Seeds the random source, so that a run's losses can be replayed. */
  readonly seed: number;
  /** Chance a datagram is dropped, each way. */
  readonly loss: number;
  /** Chance a datagram is sent twice. */
  readonly duplicate: number;
  /** Each copy is held up to this long, at random, so datagrams overtake each other. */
  readonly reorderMs: number;
  /** Datagrams held at once; past it they are dropped, as a full queue would. Default 10,000. */
  readonly maxHeld?: number;
  /** Chance a datagram is also sent once more, `replayMs` later at most: a stale copy, arriving after newer ones. Default 0. */
  readonly replay?: number;
  readonly replayMs?: number;
  /**
   * Every client through one socket towards the target, as behind one NAT mapping: a client that
   * restarts (a new socket) is the same peer to the target, and replies go to the client heard from
   * last. Default: a socket per client.
   */
  readonly onePeer?: boolean;
}

export interface LossyRelay {
  /** Where clients send: 127.0.0.1 and this port. */
  readonly port: number;
  readonly stats: { forwarded: number; dropped: number; duplicated: number; replayed: number };
  close(): Promise<void>;
}

/** A seeded random source in [0, 1): mulberry32. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

const MAX_CLIENTS = 64;

function bound(socket: dgram.Socket): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/**
 * A UDP forwarder on loopback that loses, duplicates and reorders datagrams both ways. Each
 * client (address and port) gets a socket of its own towards the target, so the target sees one
 * peer per client, as it would without the relay.
 */
export async function startLossyRelay(options: LossyRelayOptions): Promise<LossyRelay> {
  const random = seededRandom(options.seed);
  const maxHeld = options.maxHeld ?? 10_000;
  const held = new Set<NodeJS.Timeout>();
  const stats = { forwarded: 0, dropped: 0, duplicated: 0, replayed: 0 };
  let lastClient: { address: string; port: number } | undefined;
  const front = await bound(dgram.createSocket('udp4'));
  const backs = new Map<string, Promise<dgram.Socket>>();
  let closed = false;

  const pass = (datagram: Buffer, send: (datagram: Buffer) => void) => {
    if (closed) return;
    if (random() < options.loss) return void stats.dropped++;
    const delays = [random() * options.reorderMs];
    if (random() < options.duplicate) {
      stats.duplicated++;
      delays.push(random() * options.reorderMs);
    }
    if (options.replay && random() < options.replay) {
      stats.replayed++;
      delays.push(random() * (options.replayMs ?? 0));
    }
    for (const ms of delays) {
      if (held.size >= maxHeld) return void stats.dropped++;
      const timer = setTimeout(() => {
        held.delete(timer);
        stats.forwarded++;
        send(datagram);
      }, ms);
      held.add(timer);
    }
  };

  front.on('message', (datagram, client) => {
    lastClient = client;
    const key = options.onePeer ? 'one' : `${client.address} ${client.port}`;
    let back = backs.get(key);
    if (!back) {
      if (backs.size >= MAX_CLIENTS) return void stats.dropped++;
      back = bound(dgram.createSocket('udp4')).then((socket) => {
        socket.on('message', (reply) => {
          const to = options.onePeer ? lastClient! : client;
          pass(reply, (bytes) => front.send(bytes, to.port, to.address));
        });
        return socket;
      });
      backs.set(key, back);
    }
    back.then((socket) => pass(datagram, (bytes) => socket.send(bytes, options.targetPort, '127.0.0.1')));
  });

  return {
    port: front.address().port,
    stats,
    close: async () => {
      closed = true;
      for (const timer of held) clearTimeout(timer);
      held.clear();
      const sockets = [front, ...(await Promise.all(backs.values()))];
      await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    },
  };
}
