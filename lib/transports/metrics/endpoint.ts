import * as http from 'node:http';
import type { Registry } from 'prom-client';
import { DEFAULTS } from '../../core/defaults';
import { decodeOptions, NonEmptyString, strictOptions, wholeNumber } from '../../core/options';
import { formatHost } from '../identity';
import { untilListening } from '../hosting';

// The Prometheus text format at GET /metrics over node:http, and nothing else. It is a socket
// server too, so it is bounded: a few scrapers at once, and a deadline for each request.

export interface MetricsEndpointOptions {
  /** TCP port; 0 = any free port. */
  port: number;
  /** Interface to bind; default all interfaces (IPv6 and IPv4), as Prometheus exporters do. */
  host?: string;
}

export const MetricsEndpointOptions = strictOptions({ port: wholeNumber(0, 65535) }, { host: NonEmptyString });

/** A running metrics endpoint. */
export interface MetricsEndpoint extends AsyncDisposable {
  /** Where it listens: `127.0.0.1:9464`, `[::]:9464`. */
  readonly address: string;
  readonly port: number;
  /** Stops listening and closes its connections (a scrape in progress is cut). */
  close(): Promise<void>;
}

/** One scrape: the text to serve and its content type, or a rejection (served as 503). */
export type Scrape = () => Promise<{ readonly contentType: string; readonly body: string }>;

/**
 * Serves `registry` in Prometheus's text format at `GET /metrics` (404 elsewhere): for metrics
 * collected into a registry with `collectMetrics()`, or any prom-client registry.
 *
 * ```ts
 * const endpoint = await serveMetrics(registry, { port: 9464, host: '127.0.0.1' });
 * ```
 */
export function serveMetrics(registry: Registry, options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  return serveScrapes('serveMetrics', options, scrapeOf(registry));
}

/** Scrapes of `registry`. */
export function scrapeOf(registry: Registry): Scrape {
  return async () => ({ contentType: registry.contentType, body: await registry.metrics() });
}

/** `serveMetrics` for any source of scrapes (a cluster's primary sums its workers'). */
export async function serveScrapes(fn: string, options: MetricsEndpointOptions, scrape: Scrape): Promise<MetricsEndpoint> {
  const { port, host } = decodeOptions(fn, MetricsEndpointOptions, options);
  const deadlines = { headersTimeout: DEFAULTS.metricsRequestTimeoutMs, requestTimeout: DEFAULTS.metricsRequestTimeoutMs, connectionsCheckingInterval: 1000 };
  const server = http.createServer(deadlines, (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== '/metrics') return reply(res, 404, 'not found: metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(res, 405, 'method not allowed: GET /metrics\n', { allow: 'GET, HEAD' });
    scrape().then(
      ({ contentType, body }) => reply(res, 200, body, { 'content-type': contentType }),
      (err: Error) => reply(res, 503, `metrics unavailable: ${err.message}\n`),
    );
  });
  server.maxConnections = DEFAULTS.maxMetricsConnections;
  // A scraper that connects and sends nothing is cut by the request deadline; between scrapes a kept-alive socket waits Node's 5 s.
  server.on('clientError', (_err, socket) => socket.destroy());
  await untilListening(server, (listening) => server.listen({ port, host }, listening));
  const bound = server.address() as import('node:net').AddressInfo;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  return { address: formatHost(bound.address, bound.port), port: bound.port, close, [Symbol.asyncDispose]: close };
}

function reply(res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
