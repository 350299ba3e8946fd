import { expect } from 'chai';
import { Counter, Registry } from 'prom-client';
import { Subject } from 'rxjs';
import { ServerEvent } from '../../../../lib/core/events';
import { ClusterScrapes, primaryMetrics, WorkerMetrics } from '../../../../lib/transports/metrics/workers';

// The primary's side of a cluster's scrape, with workers played by the spec: what is asked, and
// when the sum is served or the scrape fails. The real IPC is in spec/lib/cli/metrics.spec.ts.

async function workerMetrics(opened: number): Promise<WorkerMetrics> {
  const registry = new Registry();
  new Counter({ name: 'rxwire_connections_opened_total', help: 'Connections accepted.', labelNames: ['transport'], registers: [registry] }).inc({ transport: 'tcp' }, opened);
  return registry.getMetricsAsJSON();
}

describe('ClusterScrapes', () => {
  it('asks each worker serving once and serves the sum of their answers', async () => {
    const asked: [number, number][] = [];
    const scrapes = new ClusterScrapes((worker, request) => asked.push([worker, request]), undefined, 1000);
    const scrape = scrapes.scrape([1, 2]);
    expect(asked.map(([worker]) => worker)).to.deep.equal([1, 2]);
    scrapes.answered(1, asked[0]![1], await workerMetrics(3));
    scrapes.answered(1, asked[0]![1], await workerMetrics(100)); // an answer twice counts once
    scrapes.answered(2, asked[1]![1], await workerMetrics(4));
    const { body, contentType } = await scrape;
    expect(body).to.include('rxwire_connections_opened_total{transport="tcp"} 7\n');
    expect(contentType).to.match(/^text\/plain; version=0\.0\.4/);
  });

  it('stops waiting for a worker that exited, and serves the others', async () => {
    const asked: number[] = [];
    const scrapes = new ClusterScrapes((_worker, request) => asked.push(request), undefined, 1000);
    const scrape = scrapes.scrape([1, 2]);
    scrapes.answered(2, asked[1]!, await workerMetrics(5));
    scrapes.gone(1);
    expect((await scrape).body).to.include('rxwire_connections_opened_total{transport="tcp"} 5\n');
  });

  it('fails the scrape, naming the worker, rather than serve a partial sum when one does not answer in time', async () => {
    const asked: number[] = [];
    const scrapes = new ClusterScrapes((_worker, request) => asked.push(request), undefined, 50);
    const scrape = scrapes.scrape([1, 2]);
    scrapes.answered(1, asked[0]!, await workerMetrics(5));
    let failure: unknown;
    await scrape.catch((err: unknown) => (failure = err));
    expect((failure as Error).message).to.equal('worker(s) 2 sent no metrics within 50 ms');
    // A late answer, to a scrape given up on, is dropped.
    scrapes.answered(2, asked[1]!, await workerMetrics(1));
  });

  it('serves an empty scrape when no worker serves, and fails those waiting when closed', async () => {
    const scrapes = new ClusterScrapes(() => {}, undefined, 1000);
    expect((await scrapes.scrape([])).body.trim()).to.equal('');
    const waiting = scrapes.scrape([1]);
    scrapes.close();
    let failure: unknown;
    await waiting.catch((err: unknown) => (failure = err));
    expect((failure as Error).message).to.equal('the server is closing');
  });

  it("adds the primary's own count of workers that exited to every sum", async () => {
    const events = new Subject<ServerEvent>();
    const asked: number[] = [];
    const scrapes = new ClusterScrapes((_worker, request) => asked.push(request), primaryMetrics(events), 1000);
    events.next({ type: 'worker-exit', worker: 2, pid: 1234, code: null, signal: 'SIGKILL', reason: undefined, livedMs: 5000, restartInMs: 100 });
    const scrape = scrapes.scrape([1]);
    scrapes.answered(1, asked[0]!, await workerMetrics(2));
    const { body } = await scrape;
    expect(body).to.include('rxwire_worker_exits_total 1\n').and.include('rxwire_connections_opened_total{transport="tcp"} 2\n');
  });
});
