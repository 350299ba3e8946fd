import * as net from 'node:net';
import { encodeProxyHeader } from 'rxwire';

/**
 * Opens client connections to one loopback port and keeps track of them, so that a failed run can
 * close them all. With `proxyHeader`, each connection first sends a PROXY header of that version,
 * as HAProxy's `send-proxy` (1) or `send-proxy-v2` (2) would.
 */
export class Dialer {
  private readonly open = new Set<net.Socket>();
  private readonly preamble: Buffer | undefined;

  constructor(
    private readonly port: number,
    proxyHeader?: 1 | 2,
  ) {
    const endpoints = { source: { address: '192.0.2.1', port: 40000 }, destination: { address: '127.0.0.1', port } };
    this.preamble = proxyHeader === undefined ? undefined : encodeProxyHeader({ version: proxyHeader, command: 'PROXY', family: 'tcp4', ...endpoints });
  }

  /** A connected socket, half-open capable and with Nagle off, like rxwire's own client. */
  dial(): Promise<net.Socket> {
    const socket = net.connect({ host: '127.0.0.1', port: this.port, allowHalfOpen: true, noDelay: true });
    this.open.add(socket);
    // Whoever reads the socket reports its errors; this keeps one that comes earlier from crashing the bench.
    socket.on('error', () => {});
    socket.once('close', () => this.open.delete(socket));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => {
        socket.off('error', reject);
        if (this.preamble) socket.write(this.preamble);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  dialMany(count: number): Promise<net.Socket[]> {
    return Promise.all(Array.from({ length: count }, () => this.dial()));
  }

  destroyAll(): void {
    for (const socket of this.open) socket.destroy();
  }
}

/** Runs `task(0)` … `task(count - 1)` with at most `inFlight` at a time; stops starting new ones after a failure. */
export async function runLimited(count: number, inFlight: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < count) {
      try {
        await task(next++);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
}
