import type { Registry } from 'prom-client';
import { collectMetrics, CollectMetricsOptions, MeteredServer } from './collect';
import { MetricsEndpoint, MetricsEndpointOptions, scrapeOf, serveScrapes } from './endpoint';

export type MetricsOptions = MetricsEndpointOptions & CollectMetricsOptions;

/**
 * Counts what `servers` tell (`collectMetrics()`) and serves it for Prometheus at
 * `http://HOST:PORT/metrics` (`serveMetrics()`). Closing the endpoint stops the counting too.
 *
 * ```ts
 * const server = await serve({ port: 9000 }, handler);
 * const endpoint = await metrics(server, { port: 9464, host: '127.0.0.1' });
 * ```
 */
export async function metrics(servers: MeteredServer | readonly MeteredServer[], options: MetricsOptions): Promise<MetricsEndpoint & { readonly registry: Registry }> {
  const { registry, defaultMetrics, ...where } = options;
  const collected = collectMetrics(servers, { registry, defaultMetrics });
  const endpoint = await serveScrapes('metrics', where, scrapeOf(collected.registry)).catch((err: unknown) => {
    collected.stop();
    throw err;
  });
  const close = () => endpoint.close().then(() => collected.stop());
  return { address: endpoint.address, port: endpoint.port, registry: collected.registry, close, [Symbol.asyncDispose]: close };
}
