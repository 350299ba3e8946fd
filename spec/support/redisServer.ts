import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closedPort, delay, eventually } from './net';

/** Whether Debian's redis-server is installed; under CI a spec that needs it fails without it, never skips. */
export function hasRedisServer(): boolean {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    if (process.env.CI) throw new Error('redis-server is not installed (apt-get install -y redis-server): the Redis specs need it');
    return false;
  }
  return true;
}

/** A throwaway redis-server on a free loopback port, with nothing saved to disk; stopped and started again on the same port. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await closedPort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (again) and waits until it accepts connections. */
  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let out = '';
    for (const stream of [child.stdout!, child.stderr!]) stream.setEncoding('utf8').on('data', (text: string) => (out += text));
    await eventually(() => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${out}`);
      return spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG';
    }, 10000, 'redis-server to accept connections');
  }

  /** Stops it at once (SIGKILL: no goodbye to its clients) and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    await delay(10);
  }
}
