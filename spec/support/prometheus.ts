import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { closedPort } from './net';

// Debian's prometheus package (`prometheus` and `promtool`) for the metrics specs; under CI a spec
// that needs it fails without it, never skips.

/** Whether `command` (prometheus, promtool) is installed; throws under CI when it is not. */
export function hasPrometheusTool(command: 'prometheus' | 'promtool'): boolean {
  const found = spawnSync(command, ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    if (process.env.CI) throw new Error(`${command} is not installed (apt-get install -y prometheus): the metrics specs need it`);
    return false;
  }
  return true;
}

/** `promtool check metrics` on `text` (its stdin): its exit status and what it said. */
export function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A throwaway Prometheus on a free loopback port scraping `target` (HOST:PORT) every second, its storage in a temp dir. */
export class PrometheusServer {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly output: string[],
  ) {}

  static async start(target: string): Promise<PrometheusServer> {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxwire-prometheus-'));
    const config = path.join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      ['global:', '  scrape_interval: 1s', '  scrape_timeout: 1s', 'scrape_configs:', '  - job_name: rxwire', '    static_configs:', `      - targets: ['${target}']`, ''].join('\n'),
    );
    const port = await closedPort();
    const child = spawn(
      'prometheus',
      [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    for (const stream of [child.stdout!, child.stderr!]) stream.setEncoding('utf8').on('data', (text: string) => output.push(text));
    // Not waited for: waitFor() asks until it answers.
    return new PrometheusServer(port, child, dir, output);
  }

  /** The value of `query` (an instant vector of one sample) once it is `expected`, within `ms`; the last value seen otherwise, in the error. */
  async waitFor(query: string, expected: number, ms = 20_000): Promise<number> {
    const deadline = Date.now() + ms;
    let last: string = 'nothing yet';
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`prometheus exited with ${this.child.exitCode}: ${this.output.join('')}`);
      const value = await this.query(query).catch((err: Error) => `an error: ${err.message}`);
      if (value === expected) return value;
      last = String(value);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`timed out after ${ms} ms waiting for ${query} to be ${expected}; Prometheus last said ${last}`);
  }

  /** Asks Prometheus's HTTP API for `query` now: the value of its one sample, or undefined when it has none. */
  async query(query: string): Promise<number | undefined> {
    const response = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { status: string; data?: { result: { value: [number, string] }[] }; error?: string };
    if (body.status !== 'success') throw new Error(body.error ?? body.status);
    const result = body.data!.result;
    if (result.length > 1) throw new Error(`${result.length} samples for ${query}`);
    return result.length === 0 ? undefined : Number(result[0]!.value[1]);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
