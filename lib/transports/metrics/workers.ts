import type { Registry } from 'prom-client';
import { Observable } from 'rxjs';
import { DEFAULTS } from '../../core/defaults';
import { ServerEvent } from '../../core/events';
import { Scrape } from './endpoint';
import { promClient } from './promClient';

// A cluster's metrics, one scrape at a time: the primary asks each worker serving for its
// registry (as JSON, over the IPC channel the cluster already has) and sums the answers with
// prom-client's cluster aggregator, each metric by its own rule (counters, gauges and histograms
// summed). The asking and answering go through the cluster's own messages (lib/transports/stream/cluster.ts).

/** One worker's metrics as its registry gives them (`registry.getMetricsAsJSON()`). */
export type WorkerMetrics = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

interface Gathering {
  readonly waiting: Set<number>;
  readonly answers: WorkerMetrics[];
  readonly finish: (error?: Error) => void;
}

/**
 * The primary's side: `scrape(workers)` asks each of `workers` (by slot) through `ask` and
 * resolves with the sum once each has answered (`answered`) or exited (`gone`: its share is lost
 * with it, as its counters restart with the next worker); rejects, failing the scrape rather than
 * serving a partial sum, when one has not answered within `timeoutMs`.
 */
export class ClusterScrapes {
  private lastRequest = 0;
  private readonly gathering = new Map<number, Gathering>();

  constructor(
    private readonly ask: (worker: number, request: number) => void,
    /** The primary's own metrics, added to every sum. */
    private readonly own: Registry | undefined = undefined,
    private readonly timeoutMs: number = DEFAULTS.metricsGatherTimeoutMs,
  ) {}

  scrape(workers: readonly number[]): ReturnType<Scrape> {
    const request = ++this.lastRequest;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`worker(s) ${[...gathering.waiting].join(', ')} sent no metrics within ${this.timeoutMs} ms`)), this.timeoutMs);
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.gathering.delete(request);
        if (error) return reject(error);
        Promise.resolve(this.own?.getMetricsAsJSON() ?? [])
          .then((own) => {
            const sum = promClient().AggregatorRegistry.aggregate([...gathering.answers, own]);
            return sum.metrics().then((body) => ({ contentType: sum.contentType, body }));
          })
          .then(resolve, reject);
      };
      const gathering: Gathering = { waiting: new Set(workers), answers: [], finish };
      this.gathering.set(request, gathering);
      for (const worker of workers) this.ask(worker, request);
      if (workers.length === 0) finish();
    });
  }

  /** Worker `worker` answered `request` with `metrics`; an answer to a request given up on is dropped. */
  answered(worker: number, request: number, metrics: WorkerMetrics): void {
    const gathering = this.gathering.get(request);
    if (!gathering?.waiting.delete(worker)) return;
    gathering.answers.push(metrics);
    if (gathering.waiting.size === 0) gathering.finish();
  }

  /** Worker `worker` exited: no scrape waits for it any more. */
  gone(worker: number): void {
    for (const gathering of [...this.gathering.values()]) {
      if (gathering.waiting.delete(worker) && gathering.waiting.size === 0) gathering.finish();
    }
  }

  /** Fails every scrape still waiting (the cluster is closing). */
  close(): void {
    for (const gathering of [...this.gathering.values()]) gathering.finish(new Error('the server is closing'));
  }
}

/** The primary's own metrics, from its events: `rxwire_worker_exits_total`, workers that exited while serving. */
export function primaryMetrics(events: Observable<ServerEvent>): Registry {
  const { Counter, Registry } = promClient();
  const registry = new Registry();
  const exits = new Counter({ name: 'rxwire_worker_exits_total', help: 'Workers that exited while serving; each is started again.', registers: [registry] });
  events.subscribe((event) => event.type === 'worker-exit' && exits.inc());
  return registry;
}
