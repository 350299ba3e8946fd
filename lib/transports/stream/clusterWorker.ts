import cluster from 'node:cluster';
import type { Registry } from 'prom-client';
import { Handler, Transport } from '../../core/handler';
import { Server } from '../hosting';
import { logSink, tagged } from '../log/sink';
import { logWritten } from '../log/stderr';
import { collectMetrics } from '../metrics/collect';
import { WorkerMetrics } from '../metrics/workers';
import { ServeOptions } from './options';
import { serveOnSharedSocket } from './server';

// A cluster's worker, and the messages it and its primary (cluster.ts) exchange over IPC.

export type FromWorker =
  | { readonly rxwire: 'ready' }
  | { readonly rxwire: 'metrics'; readonly request: number; readonly metrics: WorkerMetrics }
  | { readonly rxwire: 'listening'; readonly transport: Transport }
  | { readonly rxwire: 'failed'; readonly reason: string };
// `listen` comes with the listening socket.
// rxwire's messages are told apart by their `rxwire` key, never `type`: prom-client's own cluster
// messages (`type: 'prom-client:…'`), should a program use its AggregatorRegistry too, pass them by.
export type ToWorker = { readonly rxwire: 'listen' } | { readonly rxwire: 'close'; readonly graceMs: number } | { readonly rxwire: 'metrics'; readonly request: number };

// Which of the N places a worker fills, so that its log lines and its restarts keep one name.
export const SLOT_ENV = 'RXWIRE_WORKER';

/**
 * In a worker: asks the primary for the listening socket, serves on it, tells the primary it
 * listens (or why it cannot), and exits once its server has closed, on the primary's word or on a
 * signal of its own (a terminal's Ctrl-C reaches every process). Node's cluster ends a worker
 * whose primary has gone.
 */
export function serveInWorker(opts: ServeOptions, handler: Handler, collectingMetrics: boolean): Promise<never> {
  const tag = `worker ${process.env[SLOT_ENV] ?? cluster.worker?.id}: `;
  const { logger, ...rest } = opts;
  const sink = logSink('serveClustered', { log: opts.log, logger });
  const log = sink === false ? false : tagged(sink, tag);
  const tell = (message: FromWorker, then?: () => void) => process.send?.(message, undefined, undefined, then);
  let server: Promise<Server | undefined> | undefined;
  let registry: Registry | undefined;
  let closing = false;
  const close = (graceMs?: number) => {
    if (closing) return;
    closing = true;
    (server ?? Promise.resolve(undefined))
      .then((served) => served?.close(graceMs))
      .then(() => logWritten())
      .then(() => process.exit(0));
  };
  process.on('message', (message: ToWorker, socket: unknown) => {
    if (message?.rxwire === 'close') return close(message.graceMs);
    // Unanswered when the registry fails: the primary's scrape fails by its deadline.
    if (message?.rxwire === 'metrics') return void registry?.getMetricsAsJSON().then((metrics) => tell({ rxwire: 'metrics', request: message.request, metrics }), () => {});
    if (message?.rxwire !== 'listen' || server || closing || typeof socket !== 'object' || socket === null) return;
    server = serveOnSharedSocket({ ...rest, log }, handler, socket).then(
      (served) => {
        if (collectingMetrics) registry = collectMetrics(served).registry;
        tell({ rxwire: 'listening', transport: served.transport });
        return served;
      },
      (err: Error) => {
        tell({ rxwire: 'failed', reason: err.message }, () => process.exit(1));
        return undefined;
      },
    );
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => close());
  tell({ rxwire: 'ready' });
  return new Promise<never>(() => {});
}

