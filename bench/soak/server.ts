import { ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(__dirname, '..', '..');
const STARTUP_MS = 30_000;
// Server log lines of kinds the soak does not expect, kept to show in the report.
const ODD_LINES_KEPT = 5;

/** What the server logged, by kind of line. */
export class LogCounts {
  opened = 0;
  closed = 0;
  idleClosing = 0;
  /** ECONNRESET, EPIPE and the like: what vanishing peers cause. */
  socketErrors = 0;
  /** Connections open when SIGTERM came, as the server said. */
  openAtStop: number | undefined;
  /** Anything else: handler and protocol errors, refusals, cut connections. */
  other = 0;
  readonly otherLines: string[] = [];

  count(stamped: string): void {
    // The command stamps each line with the time (`2026-12-02T18:30:00.000Z #1 open …`).
    const line = stamped.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z /, '');
    if (/^#\d+ open /.test(line)) this.opened++;
    else if (/^#\d+ closed /.test(line)) this.closed++;
    else if (/^#\d+ idle for \d+ ms, closing$/.test(line)) this.idleClosing++;
    else if (/^#\d+ \w+ E[A-Z]+$/.test(line)) this.socketErrors++;
    else if (/^SIGTERM: closing, \d+ connection/.test(line)) this.openAtStop = Number(/(\d+) connection/.exec(line)![1]);
    else {
      this.other++;
      if (this.otherLines.length < ODD_LINES_KEPT) this.otherLines.push(stamped);
    }
  }
}

/** The server's resident memory in bytes and its open descriptors, from /proc. */
export interface Usage {
  readonly rssBytes: number;
  readonly descriptors: number;
}

/**
 * `examples/upper.ts` started as a user starts it, in a process of its own; its stderr is read and
 * counted line by line, so that a chatty log can never block it.
 */
export class UpperServer {
  /** Resolves with how the process ended, whenever it does. */
  readonly exited: Promise<string>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly log: LogCounts,
  ) {
    // 'close' rather than 'exit': it comes once the log lines are all read too.
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`)));
  }

  static async start(flags: readonly string[]): Promise<UpperServer> {
    const child = spawn(process.execPath, ['-r', 'ts-node/register', 'examples/upper.ts', ...flags], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = new LogCounts();
    createInterface({ input: child.stderr! }).on('line', (line) => log.count(line));
    const listening = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening on" line within ${STARTUP_MS} ms`)), STARTUP_MS);
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        if (!line.startsWith('listening on ')) return;
        clearTimeout(timer);
        resolve(line.slice('listening on '.length));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with code ${code} before listening: ${log.otherLines.join(' / ')}`));
      });
    }).catch((err: Error) => {
      child.kill('SIGKILL');
      throw err;
    });
    const port = Number(/:(\d+)$/.exec(listening)?.[1]);
    if (!Number.isInteger(port)) {
      child.kill('SIGKILL');
      throw new Error(`cannot read a port from "listening on ${listening}"`);
    }
    return new UpperServer(child, port, log);
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  usage(): Usage {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const rssKiB = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
    return { rssBytes: rssKiB * 1024, descriptors: readdirSync(`/proc/${this.pid}/fd`).length };
  }

  /** SIGTERM, as a supervisor stops it; SIGKILL if it has not exited after `ms`. Resolves with how it ended. */
  async stop(ms: number): Promise<string> {
    if (this.alive) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), ms);
    const how = await this.exited;
    clearTimeout(timer);
    return how;
  }
}
