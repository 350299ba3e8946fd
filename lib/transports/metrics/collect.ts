import type { Registry } from 'prom-client';
import { Observable, Subscription } from 'rxjs';
import { CloseReason, RefusalReason, ServerEvent } from '../../core/events';
import { Transport } from '../../core/handler';
import { Traffic } from '../traffic';
import { promClient } from './promClient';

// A server's events and traffic as Prometheus metrics, kept by prom-client in a registry. Events
// are counted as they come (one counter add each); bytes, frames and open connections are read
// from the server itself when the registry is scraped (server.traffic(), one pass over its open
// connections), so a long-lived connection's bytes show before it closes, at no cost per read.
// The metric names are a contract: README "Metrics" lists them.

/** What the collector reads of a server: its events, and its counts at scrape time. */
export interface MeteredServer {
  readonly transport: Transport;
  readonly connections: number;
  readonly events: Observable<ServerEvent>;
  traffic(): Traffic;
}

export interface CollectMetricsOptions {
  /** Where the metrics are registered: a fresh `Registry` by default; give yours to serve them with your own. */
  registry?: Registry;
  /** Also prom-client's default process metrics (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`, …); default true. */
  defaultMetrics?: boolean;
}

/** The metrics of one or more servers, kept up to date until `stop()`. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Stops counting events and takes out of the registry what it put there (the process metrics too). */
  stop(): void;
}

// Every reason, so that each counter shows 0 until the first one: Prometheus's rate() and
// alerts need a series before its first increase. A Record, so a reason added to the union is a type error here.
const CLOSE_REASONS = Object.keys({
  end: true,
  idle: true,
  'protocol-error': true,
  'handler-error': true,
  'grace-expired': true,
  reset: true,
  'over-budget': true,
  error: true,
} satisfies Record<CloseReason, true>) as CloseReason[];

const REFUSAL_REASONS = Object.keys({
  'max-connections': true,
  'per-address': true,
  'near-fd-limit': true,
  'proxy-header': true,
  'tls-handshake': true,
  'max-peers': true,
} satisfies Record<RefusalReason, true>) as RefusalReason[];

type Labels = Record<string, string>;

/** From a few milliseconds (a probe) to an hour (a long-lived session), in seconds. */
const DURATION_BUCKETS = [0.005, 0.05, 0.25, 1, 5, 30, 120, 600, 3600];

/**
 * Counts what `servers` tell, into `registry` (a fresh one by default), with prom-client's default
 * process metrics unless `defaultMetrics: false`. Serve the registry with `serveMetrics()`, or
 * with your own HTTP server (`await registry.metrics()`); `metrics()` does both.
 *
 * ```ts
 * const server = await serve({ port: 9000 }, handler);
 * const { registry } = collectMetrics(server);
 * app.get('/metrics', async () => registry.metrics()); // fastify, express, …
 * ```
 */
export function collectMetrics(servers: MeteredServer | readonly MeteredServer[], options: CollectMetricsOptions = {}): ServerMetrics {
  const { Counter, Gauge, Histogram, Registry } = promClient();
  const watched = Array.isArray(servers) ? (servers as readonly MeteredServer[]) : [servers as MeteredServer];
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  const before = namesIn(registry);
  const transports = [...new Set(watched.map((s) => s.transport))];

  const opened = new Counter({ name: 'rxwire_connections_opened_total', help: 'Connections (UDP and rdm: peer sessions) accepted.', labelNames: ['transport'], registers });
  const closed = new Counter({ name: 'rxwire_connections_closed_total', help: 'Connections closed, by why they closed.', labelNames: ['transport', 'reason'], registers });
  const refused = new Counter({ name: 'rxwire_connections_refused_total', help: 'Peers turned away before they became connections, by why.', labelNames: ['transport', 'reason'], registers });
  const handlerErrors = new Counter({ name: 'rxwire_handler_errors_total', help: 'Connections ended by their handler failing.', labelNames: ['transport'], registers });
  const duration = new Histogram({ name: 'rxwire_connection_duration_seconds', help: 'How long connections lived, from accepted to closed.', labelNames: ['transport'], buckets: DURATION_BUCKETS, registers });
  new Gauge({
    name: 'rxwire_connections_open',
    help: 'Connections (UDP and rdm: peer sessions) open now.',
    labelNames: ['transport'],
    registers,
    collect() {
      this.reset();
      for (const server of watched) this.inc({ transport: server.transport }, server.connections);
    },
  });
  // Read from server.traffic() at each scrape, summed by labels: sockets count bytes and decoders frames on their own.
  // One walk over the open connections per scrape, shared by the four counters that read it.
  let snapshot: Traffic[] | undefined;
  const traffics = (): Traffic[] => {
    if (!snapshot) setImmediate(() => (snapshot = undefined));
    return (snapshot ??= watched.map((server) => server.traffic()));
  };
  const fromTraffic = (name: string, help: string, labelNames: string[], count: (traffic: Traffic, add: (labels: Labels, n: number) => void) => void) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        traffics().forEach((traffic, i) => count(traffic, (labels, n) => this.inc({ transport: watched[i]!.transport, ...labels }, n)));
      },
    });
  fromTraffic('rxwire_received_bytes_total', 'Bytes read from peers (UDP and rdm: datagram payloads, rdm headers and acknowledgements included).', ['transport'], (t, add) => add({}, t.bytesIn));
  fromTraffic('rxwire_sent_bytes_total', 'Bytes written to peers (UDP and rdm: datagram payloads, rdm headers and acknowledgements included).', ['transport'], (t, add) => add({}, t.bytesOut));
  fromTraffic('rxwire_frames_decoded_total', 'Frames cut by decoders, by codec.', ['transport', 'codec'], (t, add) => t.frames.forEach((tally, codec) => add({ codec }, tally.decoded)));
  fromTraffic('rxwire_protocol_errors_total', 'Protocol errors raised by decoders (a frame too long, undecodable, cut short or late), by codec.', ['transport', 'codec'], (t, add) =>
    t.frames.forEach((tally, codec) => add({ codec }, tally.protocolErrors)),
  );
  for (const transport of transports) {
    opened.inc({ transport }, 0);
    handlerErrors.inc({ transport }, 0);
    duration.zero({ transport });
    for (const reason of CLOSE_REASONS) closed.inc({ transport, reason }, 0);
    for (const reason of REFUSAL_REASONS) refused.inc({ transport, reason }, 0);
  }

  const subscriptions = watched.map((server) => {
    const { transport } = server;
    return server.events.subscribe({
      next: (event) => {
        switch (event.type) {
          case 'open':
            return opened.inc({ transport });
          case 'close':
            closed.inc({ transport, reason: event.reason });
            return duration.observe({ transport }, event.durationMs / 1000);
          case 'refused':
            return refused.inc({ transport, reason: event.reason });
          case 'handler-error':
            return handlerErrors.inc({ transport });
          default:
            return undefined;
        }
      },
      // The stream does not fail; should it, a metric is not worth the process.
      error: () => {},
    });
  });
  if (options.defaultMetrics !== false) collectProcessMetrics(registry);
  const made = [...namesIn(registry)].filter((name) => !before.has(name));
  return {
    registry,
    stop: () => {
      subscriptions.forEach((s: Subscription) => s.unsubscribe());
      made.forEach((name) => registry.removeSingleMetric(name));
    },
  };
}

/**
 * prom-client's default process metrics, less the gauges it names `_total`
 * (`nodejs_active_handles_total`, …), which break Prometheus's naming rules (promtool says so):
 * their by-type gauges (`nodejs_active_handles{type}`) stay, and sum to the same.
 */
function collectProcessMetrics(registry: Registry): void {
  const { collectDefaultMetrics, Counter } = promClient();
  const before = namesIn(registry);
  collectDefaultMetrics({ register: registry });
  for (const metric of registry.getMetricsAsArray()) {
    if (!before.has(metric.name) && metric.name.endsWith('_total') && !(metric instanceof Counter)) registry.removeSingleMetric(metric.name);
  }
}

function namesIn(registry: Registry): Set<string> {
  return new Set(registry.getMetricsAsArray().map((metric) => metric.name));
}
