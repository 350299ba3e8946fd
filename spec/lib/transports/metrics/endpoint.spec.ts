import { expect } from 'chai';
import * as net from 'node:net';
import { Subject } from 'rxjs';
import { InvalidOption, metrics, MeteredServer, Traffic } from 'rxwire';
import { ServerEvent } from '../../../../lib/core/events';
import { DEFAULTS } from '../../../../lib/core/defaults';
import { closed, dial } from '../../../support/net';
import { hasPrometheusTool, promtoolCheckMetrics } from '../../../support/prometheus';

// The metrics endpoint over a real socket on loopback: GET /metrics in Prometheus's text format,
// which promtool (Debian's prometheus package) must find no problem with; nothing else served.

function fakeServer(): MeteredServer & { events: Subject<ServerEvent> } {
  const traffic: Traffic = { bytesIn: 12, bytesOut: 34, frames: new Map([['lines', { decoded: 3, protocolErrors: 1 }]]) };
  return { transport: 'tcp', connections: 1, events: new Subject<ServerEvent>(), traffic: () => traffic };
}

describe('metrics()', () => {
  it('serves GET /metrics in the Prometheus text format, which promtool check metrics finds no problem with', async function () {
    if (!hasPrometheusTool('promtool')) return this.skip();
    const server = fakeServer();
    await using endpoint = await metrics(server, { port: 0, host: '127.0.0.1' });
    server.events.next({ type: 'open', id: 1, transport: 'tcp', remote: '127.0.0.1:2', local: '127.0.0.1:1' });
    server.events.next({ type: 'close', id: 1, transport: 'tcp', remote: '127.0.0.1:2', reason: 'idle', bytesIn: 1, bytesOut: 2, durationMs: 1500 });
    const response = await fetch(`http://${endpoint.address}/metrics`);
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.equal('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(text).to.include('rxwire_connections_closed_total{transport="tcp",reason="idle"} 1\n');
    expect(text).to.include('rxwire_frames_decoded_total{transport="tcp",codec="lines"} 3\n');
    expect(text).to.include('process_cpu_seconds_total');
    const check = promtoolCheckMetrics(text);
    expect(check, check.output).to.deep.equal({ status: 0, output: '' });
  });

  it('promtool does find a problem in text that breaks the naming rules, so the check above can fail', function () {
    if (!hasPrometheusTool('promtool')) return this.skip();
    const check = promtoolCheckMetrics('# HELP rxwire_bytes Bytes.\n# TYPE rxwire_bytes counter\nrxwire_bytes 1\n');
    expect(check.output).to.include('counter metrics should have "_total" suffix');
  });

  it('answers 404 elsewhere and 405 to other methods, and stops collecting once closed', async () => {
    const server = fakeServer();
    const endpoint = await metrics(server, { port: 0, host: '127.0.0.1' });
    try {
      expect((await fetch(`http://${endpoint.address}/`)).status).to.equal(404);
      expect((await fetch(`http://${endpoint.address}/metrics/x`)).status).to.equal(404);
      const post = await fetch(`http://${endpoint.address}/metrics`, { method: 'POST', body: 'x' });
      expect([post.status, post.headers.get('allow')]).to.deep.equal([405, 'GET, HEAD']);
      expect((await fetch(`http://${endpoint.address}/metrics?debug=1`)).status).to.equal(200);
    } finally {
      await endpoint.close();
    }
    expect(server.events.observed).to.equal(false);
    await new Promise((resolve, reject) => net.connect(endpoint.port, '127.0.0.1').once('connect', reject).once('error', resolve));
  });

  it(`serves ${DEFAULTS.maxMetricsConnections} scrapers at once: a connection past them is closed at once`, async () => {
    await using endpoint = await metrics(fakeServer(), { port: 0, host: '127.0.0.1', defaultMetrics: false });
    const held = await Promise.all(Array.from({ length: DEFAULTS.maxMetricsConnections }, () => dial({ port: endpoint.port })));
    try {
      const extra = await dial({ port: endpoint.port });
      await closed(extra);
      expect(held.every((socket) => !socket.destroyed)).to.equal(true);
    } finally {
      held.forEach((socket) => socket.destroy());
    }
  });

  it('refuses bad options with one line naming the key', async () => {
    let thrown: unknown;
    await metrics(fakeServer(), { port: 70000 }).catch((err: unknown) => (thrown = err));
    expect(thrown).to.be.instanceOf(InvalidOption);
    expect((thrown as Error).message).to.match(/^metrics: port: expected a whole number from 0 to 65535/);
  });
});
