import cluster, { Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { Observable } from 'rxjs';
import { DEFAULTS } from '../../core/defaults';
import { InvalidOption, WorkerFailed } from '../../core/errors';
import { ServerEvent } from '../../core/events';
import { Handler, Transport } from '../../core/handler';
import { checked, decodeOptions, strictOptions, wholeNumber } from '../../core/options';
import { checkHandler } from '../hosting';
import { AbortOptions, liveSignalOf, withLifetime } from '../lifetime';
import { LineSink, logSink } from '../log/sink';
import { writeTextLog } from '../log/textLog';
import { MetricsEndpoint, MetricsEndpointOptions, serveScrapes } from '../metrics/endpoint';
import { ClusterScrapes, primaryMetrics } from '../metrics/workers';
import { closesFor, EventStream } from '../serverEvents';
import { bindSharedListener, SharedListener } from '../sharedListener';
import { serveOptionCodecs, ServeOptions } from './options';
import { FromWorker, serveInWorker, SLOT_ENV, ToWorker } from './clusterWorker';

// Serving from several processes is hosting: the primary binds the listening socket once and
// holds it for the server's whole life, handing it to each worker it starts (node:cluster's own
// sharing would close it whenever no worker is left, and a restarted worker could then find the
// port taken, or bind a new one after `port: 0`). Each worker runs `serve()` on it, accepting
// for itself; the primary only supervises: starts, restarts, and closes them.

const maxWorkers = wholeNumber(1, DEFAULTS.maxWorkers);

/** How many workers: a whole number, or `auto` for `os.availableParallelism()`. */
export const WorkerCount = checked(`${maxWorkers.name} or "auto"`, (u): u is number | 'auto' => u === 'auto' || maxWorkers.is(u));

const ClusteredServeOptions = strictOptions({}, { ...serveOptionCodecs, workers: WorkerCount, metrics: MetricsEndpointOptions });

/** `serveClustered()`'s options: those of `serve()` (not `path`) and how many workers serve them. */
export type ClusteredServeOptions = ServeOptions & {
  /** Worker processes, each serving every option given; default `auto`, one per core. */
  readonly workers?: number | 'auto';
  /**
   * Serve Prometheus metrics at `http://HOST:PORT/metrics` from the primary: each worker counts
   * its own (`collectMetrics()`), and each scrape sums them over the workers serving.
   */
  readonly metrics?: MetricsEndpointOptions;
};

/** The primary's view of a clustered server. */
export interface ClusteredServer extends AsyncDisposable {
  readonly transport: Transport;
  /** Where every worker listens: `[::]:50007`, `127.0.0.1:41234`. */
  readonly address: string;
  /** The real port all workers share (useful after `port: 0`). */
  readonly port: number | undefined;
  /** Workers serving right now; fewer than asked while one that died waits to restart. */
  readonly workers: number;
  /** Where the primary serves its workers' metrics (the `metrics` option): `127.0.0.1:9464`. */
  readonly metricsAddress: string | undefined;
  /**
   * The primary's own events: `listening` (every worker listens), `worker-exit`, `worker-restart`,
   * `shutdown`, `closed`. Connections are each worker's: its server tells of them in its process.
   */
  readonly events: Observable<ServerEvent>;
  /**
   * Stops accepting in every worker at once, gives their open connections `graceMs` (default:
   * the `graceMs` option, else 5 s), and resolves once every worker has exited.
   */
  close(graceMs?: number): Promise<void>;
}

// After its grace period a worker has this long to exit before it is killed.
const WORKER_EXIT_MS = 2000;

/**
 * `serve()` from `workers` processes sharing one listening socket. Call it the same way in every
 * process of the program: in the primary it binds the address (rejecting as `serve()` would when
 * it cannot), starts the workers and resolves once all of them listen (it rejects with
 * `WorkerFailed` when one cannot, with the others stopped); in a worker,
 * which Node starts by running the program again, it serves and never settles, so that code after
 * it runs once, in the primary. A worker that dies is started again after 100 ms, then after
 * twice as long each time it dies again, up to 10 s; only its own connections are lost, and the
 * port stays bound by the primary meanwhile, so new connections wait for the next worker. In the
 * primary, `{ signal }` and `await using` close it as `close()` does.
 *
 * ```ts
 * serveClustered({ port: 9000, workers: 'auto' }, handler).then((server) => console.log(`listening on ${server.address}`));
 * ```
 */
export async function serveClustered(options: ClusteredServeOptions, handler: Handler, lifetime?: AbortOptions): Promise<ClusteredServer> {
  const { workers: count = 'auto', metrics, ...opts } = decodeOptions('serveClustered', ClusteredServeOptions, options);
  checkHandler('serveClustered', handler);
  if (opts.path !== undefined) throw new InvalidOption('serveClustered: path: a Unix socket cannot be shared by workers; serve() it from one process');
  const size = count === 'auto' ? Math.min(availableParallelism(), DEFAULTS.maxWorkers) : count;
  if (!cluster.isPrimary) return serveInWorker(opts, handler, metrics !== undefined);
  // Only the primary closes: its workers are told to by it.
  const signal = liveSignalOf('serveClustered', lifetime);
  const listener = await bindSharedListener(opts.host, opts.port ?? 0);
  // Bound before any worker starts: a port that cannot be bound fails the start, as the server's own does.
  let supervisor: Supervisor | undefined;
  const endpoint =
    metrics &&
    (await serveScrapes('serveClustered: metrics', metrics, () => supervisor!.scrapeMetrics()).catch((err: Error) => {
      listener.close();
      throw err instanceof InvalidOption ? err : new Error(`metrics: ${err.message}`, { cause: err });
    }));
  const started = (supervisor = new Supervisor(size, listener, logSink('serveClustered', opts), opts.graceMs ?? DEFAULTS.graceMs, endpoint));
  return closesFor(withLifetime(await started.started, signal), (reason) => started.close(undefined, reason));
}

/**
 * The wait before a worker that died is started again, given the wait before its last start (0
 * for none) and how long it lived: the first wait again once it has lived a while, else twice
 * the last, capped.
 */
export function restartDelay(previousMs: number, livedMs: number): number {
  if (previousMs === 0 || livedMs >= DEFAULTS.workerStableMs) return DEFAULTS.workerRestartMs;
  return Math.min(previousMs * 2, DEFAULTS.workerMaxRestartMs);
}

interface Slot {
  readonly number: number;
  worker: Worker | undefined;
  startedAt: number;
  listening: boolean;
  delayMs: number;
  restart: NodeJS.Timeout | undefined;
  /** Why its last worker failed, when it said so. */
  reason: string | undefined;
}

class Supervisor {
  readonly started: Promise<Omit<ClusteredServer, typeof Symbol.asyncDispose>>;
  private readonly slots: Slot[];
  private closing: Promise<void> | undefined;
  private settle!: { resolve: (server: Omit<ClusteredServer, typeof Symbol.asyncDispose>) => void; reject: (err: WorkerFailed) => void };
  private running = false;
  private readonly events = new EventStream();
  private readonly scrapes: ClusterScrapes;

  constructor(
    size: number,
    private readonly listener: SharedListener,
    log: LineSink | false,
    private readonly graceMs: number,
    private readonly metricsEndpoint: MetricsEndpoint | undefined,
  ) {
    if (log !== false) writeTextLog(this.events.events, log);
    const ask = (number: number, request: number) => {
      const worker = this.slots[number - 1]?.worker;
      if (worker) tellWorker(worker, { rxwire: 'metrics', request });
    };
    this.scrapes = new ClusterScrapes(ask, metricsEndpoint && primaryMetrics(this.events.events));
    this.started = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.slots = Array.from({ length: size }, (_, i): Slot => ({ number: i + 1, worker: undefined, startedAt: 0, listening: false, delayMs: 0, restart: undefined, reason: undefined }));
    this.slots.forEach((slot) => this.start(slot));
  }

  private start(slot: Slot): void {
    slot.restart = undefined;
    slot.listening = false;
    slot.reason = undefined;
    slot.startedAt = Date.now();
    const worker = cluster.fork({ [SLOT_ENV]: String(slot.number) });
    if (this.running && this.events.observed) this.events.emit({ type: 'worker-restart', worker: slot.number, pid: worker.process.pid });
    slot.worker = worker;
    worker.on('message', (message: FromWorker) => this.heard(slot, worker, message));
    worker.on('exit', (code, signal) => this.exited(slot, worker, code, signal));
    // Unheard, an 'error' would kill the primary. A worker that could not be started (EMFILE,
    // EAGAIN) never exits: it failed as one that died at once does.
    worker.on('error', (err) => {
      slot.reason ??= `worker ${slot.number} could not start: ${err.message}`;
      if (worker.process.pid === undefined) this.exited(slot, worker, null, null);
    });
  }

  /** The metrics of every worker serving, summed. */
  scrapeMetrics(): ReturnType<ClusterScrapes['scrape']> {
    return this.scrapes.scrape(this.slots.filter((slot) => slot.listening && slot.worker?.isConnected()).map((slot) => slot.number));
  }

  private heard(slot: Slot, worker: Worker, message: FromWorker): void {
    if (slot.worker !== worker) return;
    if (message?.rxwire === 'metrics') return this.scrapes.answered(slot.number, message.request, message.metrics);
    if (message?.rxwire === 'ready') {
      // A worker gone before the message reached it is seen by its exit.
      if (this.closing) tellWorker(worker, { rxwire: 'close', graceMs: 0 });
      else tellWorker(worker, { rxwire: 'listen' }, this.listener.handle);
      return;
    }
    if (message?.rxwire === 'failed') {
      slot.reason = message.reason;
      if (!this.running) this.fail(message.reason);
      return;
    }
    if (message?.rxwire !== 'listening') return;
    slot.listening = true;
    if (this.closing) tellWorker(worker, { rxwire: 'close', graceMs: 0 });
    if (this.running || !this.slots.every((s) => s.listening)) return;
    this.running = true;
    const supervisor = this;
    this.events.listening({ type: 'listening', transport: message.transport, address: this.listener.address });
    this.settle.resolve({
      transport: message.transport,
      address: this.listener.address,
      port: this.listener.port,
      metricsAddress: this.metricsEndpoint?.address,
      get workers() {
        return supervisor.serving;
      },
      events: this.events.events,
      close: (graceMs) => this.close(graceMs, 'close()'),
    });
  }

  private exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.listening = false;
    this.scrapes.gone(slot.number);
    if (this.closing) return;
    if (!this.running) return this.fail(slot.reason ?? `worker ${slot.number} ${signal ? `was killed by ${signal}` : `exited with code ${code}`} before it listened`);
    const lived = Date.now() - slot.startedAt;
    slot.delayMs = restartDelay(slot.delayMs, lived);
    if (this.events.observed) {
      this.events.emit({ type: 'worker-exit', worker: slot.number, pid: worker.process.pid, code, signal, reason: slot.reason, livedMs: lived, restartInMs: slot.delayMs });
    }
    slot.restart = setTimeout(() => this.start(slot), slot.delayMs);
  }

  /** A worker could not start: stop the others, and reject with its reason. */
  private fail(reason: string): void {
    this.stopAll(0).then(() => this.settle.reject(new WorkerFailed(reason)));
  }

  /** Workers serving right now. */
  get serving(): number {
    return this.slots.filter((s) => s.listening).length;
  }

  close(graceMs: number | undefined, reason: string): Promise<void> {
    const ms = graceMs ?? this.graceMs;
    if (!this.closing && this.events.observed) this.events.emit({ type: 'shutdown', reason, open: this.serving, counting: 'workers', graceMs: ms });
    return this.stopAll(ms);
  }

  /** Tells every worker to close within `graceMs`, kills those still there after it, and resolves once all have exited. */
  private stopAll(graceMs: number): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      // The workers' copies keep the socket listening until each has stopped accepting.
      this.listener.close();
      this.scrapes.close();
      const metricsClosed = this.metricsEndpoint?.close();
      const live = this.slots.filter((slot) => {
        clearTimeout(slot.restart);
        return slot.worker !== undefined;
      });
      const exits = live.map((slot) => new Promise((exited) => slot.worker!.once('exit', exited)));
      const kill = setTimeout(() => live.forEach((slot) => slot.worker?.process.kill('SIGKILL')), graceMs + WORKER_EXIT_MS);
      for (const slot of live) {
        if (slot.worker!.isConnected()) tellWorker(slot.worker!, { rxwire: 'close', graceMs });
        else slot.worker!.process.kill('SIGKILL');
      }
      Promise.all([...exits, metricsClosed]).then(() => {
        clearTimeout(kill);
        this.events.closed();
        resolve();
      });
    });
    return this.closing;
  }
}

/**
 * Sends `message` to a worker. A worker may exit between the check that it is connected and the
 * send: the failed send would be an 'error' event nobody hears, which kills the primary; its
 * 'exit' tells the rest.
 */
function tellWorker(worker: Worker, message: ToWorker, handle?: object): void {
  worker.send(message, handle as never, undefined, () => {});
}
