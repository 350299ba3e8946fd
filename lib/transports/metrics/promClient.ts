import type * as PromClient from 'prom-client';

/**
 * prom-client, required when metrics are first asked for, not with rxwire: it takes a tenth of a
 * second to load, which every server (and the command's start) would pay without using it.
 */
export function promClient(): typeof PromClient {
  return require('prom-client') as typeof PromClient;
}
