import { setTimeout as delay } from 'node:timers/promises';
import { serveClustered } from 'rxwire';
import upper from '../../handlers/upper';

// `serveClustered()` ended from outside, for spec/lib/transports/stream/clusterLifetime.spec.ts:
// `abort` aborts its signal 300 ms after listening, `using` leaves an `await using` block then. The
// primary prints `listening on …`, then `closed` once it is; its workers print nothing.

async function main(mode: string): Promise<void> {
  if (mode === 'abort') {
    const controller = new AbortController();
    const server = await serveClustered({ host: '127.0.0.1', port: 0, workers: 2, log: false }, upper, { signal: controller.signal });
    console.log(`listening on ${server.address}`);
    await delay(300);
    controller.abort();
    return;
  }
  {
    await using server = await serveClustered({ host: '127.0.0.1', port: 0, workers: 2, log: false }, upper);
    console.log(`listening on ${server.address}`);
    await delay(300);
  }
  console.log('closed');
}

void main(process.argv[2] ?? 'abort');
