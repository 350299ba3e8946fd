import * as net from 'node:net';

/** Opens client connections to one loopback port and keeps track of them, so that a failed run can close them all. */
export class Dialer {
  private readonly open = new Set<net.Socket>();

  constructor(private readonly port: number) {}

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
