import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { Counter, Registry } from 'prom-client';
import { Subject } from 'rxjs';
import { collectMetrics, FrameTally, MeteredServer, Traffic, Transport } from 'rxwire';
import { ServerEvent } from '../../../../lib/core/events';
import { root, transpileFlags } from '../../../support/net';

// The collector against a Subject of events and traffic the spec sets: what each event and each
// scrape puts in the registry, read back in Prometheus's text format.

interface FakeServer extends MeteredServer {
  readonly events: Subject<ServerEvent>;
  connections: number;
  counted: { bytesIn: number; bytesOut: number; frames: Map<string, FrameTally> };
}

function fakeServer(transport: Transport): FakeServer {
  const counted = { bytesIn: 0, bytesOut: 0, frames: new Map<string, FrameTally>() };
  return { transport, connections: 0, events: new Subject<ServerEvent>(), counted, traffic: (): Traffic => counted };
}

/** The samples of a scrape, by `name{labels}` as written: `rxwire_connections_opened_total{transport="tcp"}`. */
async function samples(registry: Registry): Promise<Map<string, number>> {
  const text = await registry.metrics();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    found.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return found;
}

/** Expects each sample `expected` names to have its value in `found`, all compared at once. */
function expectSamples(found: Map<string, number>, expected: Record<string, number>): void {
  expect(Object.fromEntries(Object.keys(expected).map((key) => [key, found.get(key)]))).to.deep.equal(expected);
}

const close = (id: number, reason: Extract<ServerEvent, { type: 'close' }>['reason'], durationMs: number): ServerEvent => ({
  type: 'close',
  id,
  transport: 'tcp',
  remote: '127.0.0.1:1',
  reason,
  bytesIn: 1,
  bytesOut: 1,
  durationMs,
});

describe('collectMetrics', () => {
  it('shows every counter at 0 for every reason before the first event, with process metrics', async () => {
    const server = fakeServer('tcp');
    const { registry, stop } = collectMetrics(server);
    try {
      const found = await samples(registry);
      expect(found.get('rxwire_connections_opened_total{transport="tcp"}')).to.equal(0);
      for (const reason of ['end', 'idle', 'protocol-error', 'handler-error', 'grace-expired', 'reset', 'over-budget', 'error']) {
        expect(found.get(`rxwire_connections_closed_total{transport="tcp",reason="${reason}"}`), reason).to.equal(0);
      }
      for (const reason of ['max-connections', 'per-address', 'near-fd-limit', 'proxy-header', 'tls-handshake', 'max-peers']) {
        expect(found.get(`rxwire_connections_refused_total{transport="tcp",reason="${reason}"}`), reason).to.equal(0);
      }
      expect(found.get('rxwire_handler_errors_total{transport="tcp"}')).to.equal(0);
      expect(found.get('rxwire_connections_open{transport="tcp"}')).to.equal(0);
      expect(found.get('rxwire_received_bytes_total{transport="tcp"}')).to.equal(0);
      expect(found.get('rxwire_sent_bytes_total{transport="tcp"}')).to.equal(0);
      expect(found.has('process_cpu_seconds_total')).to.equal(true);
      expect(found.has('nodejs_heap_size_used_bytes')).to.equal(true);
    } finally {
      stop();
    }
  });

  it('counts opens, closes by reason, refusals by reason, handler errors, and how long connections lived', async () => {
    const server = fakeServer('tcp');
    const { registry, stop } = collectMetrics(server, { defaultMetrics: false });
    try {
      const events: ServerEvent[] = [
        { type: 'listening', transport: 'tcp', address: '127.0.0.1:1' },
        { type: 'open', id: 1, transport: 'tcp', remote: '127.0.0.1:2', local: '127.0.0.1:1' },
        { type: 'open', id: 2, transport: 'tcp', remote: '127.0.0.1:3', local: '127.0.0.1:1' },
        { type: 'open', id: 3, transport: 'tcp', remote: '127.0.0.1:4', local: '127.0.0.1:1' },
        { type: 'refused', remote: '127.0.0.1:5', reason: 'max-connections', limit: 3 },
        { type: 'handler-error', id: 2, error: { name: 'Error', code: undefined, message: 'boom', cause: undefined } },
        { type: 'protocol-error', id: 3, error: { name: 'FrameTooLong', code: 'ERR_FRAME_TOO_LONG', message: 'too long', cause: undefined } },
        close(1, 'end', 20),
        close(2, 'handler-error', 2000),
        close(3, 'protocol-error', 40_000),
      ];
      events.forEach((event) => server.events.next(event));
      const found = await samples(registry);
      expectSamples(found, {
        'rxwire_connections_opened_total{transport="tcp"}': 3,
        'rxwire_connections_closed_total{transport="tcp",reason="end"}': 1,
        'rxwire_connections_closed_total{transport="tcp",reason="handler-error"}': 1,
        'rxwire_connections_closed_total{transport="tcp",reason="protocol-error"}': 1,
        'rxwire_connections_closed_total{transport="tcp",reason="idle"}': 0,
        'rxwire_connections_refused_total{transport="tcp",reason="max-connections"}': 1,
        'rxwire_handler_errors_total{transport="tcp"}': 1,
        'rxwire_connection_duration_seconds_count{transport="tcp"}': 3,
        'rxwire_connection_duration_seconds_bucket{le="0.05",transport="tcp"}': 1,
        'rxwire_connection_duration_seconds_bucket{le="5",transport="tcp"}': 2,
        'rxwire_connection_duration_seconds_bucket{le="+Inf",transport="tcp"}': 3,
      });
      expect(found.get('rxwire_connection_duration_seconds_sum{transport="tcp"}')).to.be.closeTo(42.02, 1e-9);
      expect(found.has('process_cpu_seconds_total')).to.equal(false);
    } finally {
      stop();
    }
  });

  it("reads bytes, frames by codec and open connections from the servers at each scrape, summed by transport", async () => {
    const [a, b, udp] = [fakeServer('tcp'), fakeServer('tcp'), fakeServer('udp')];
    const { registry, stop } = collectMetrics([a, b, udp], { defaultMetrics: false });
    try {
      a.counted.bytesIn = 100;
      a.counted.bytesOut = 7;
      a.counted.frames.set('lines', { decoded: 5, protocolErrors: 1 });
      a.connections = 2;
      b.counted.bytesIn = 11;
      b.counted.frames.set('lines', { decoded: 2, protocolErrors: 0 });
      b.counted.frames.set('resp', { decoded: 9, protocolErrors: 0 });
      udp.counted.bytesIn = 3;
      udp.connections = 1;
      let found = await samples(registry);
      expectSamples(found, {
        'rxwire_received_bytes_total{transport="tcp"}': 111,
        'rxwire_sent_bytes_total{transport="tcp"}': 7,
        'rxwire_received_bytes_total{transport="udp"}': 3,
        'rxwire_frames_decoded_total{transport="tcp",codec="lines"}': 7,
        'rxwire_frames_decoded_total{transport="tcp",codec="resp"}': 9,
        'rxwire_protocol_errors_total{transport="tcp",codec="lines"}': 1,
        'rxwire_connections_open{transport="tcp"}': 2,
        'rxwire_connections_open{transport="udp"}': 1,
      });
      // A long-lived connection's bytes show as they come, not once it closes.
      a.counted.bytesIn += 1000;
      a.connections = 0;
      found = await samples(registry);
      expect(found.get('rxwire_received_bytes_total{transport="tcp"}')).to.equal(1111);
      expect(found.get('rxwire_connections_open{transport="tcp"}')).to.equal(0);
    } finally {
      stop();
    }
  });

  it("registers into the user's registry beside their own metrics, and stop() takes rxwire's out and stops counting", async () => {
    const registry = new Registry();
    new Counter({ name: 'app_jobs_total', help: 'Jobs.', registers: [registry] }).inc(4);
    const server = fakeServer('rdm');
    const collected = collectMetrics(server, { registry, defaultMetrics: false });
    expect(collected.registry).to.equal(registry);
    server.events.next({ type: 'open', id: 1, transport: 'rdm', remote: '127.0.0.1:2', local: '127.0.0.1:1' });
    expect((await samples(registry)).get('rxwire_connections_opened_total{transport="rdm"}')).to.equal(1);
    expect((await samples(registry)).get('app_jobs_total')).to.equal(4);
    collected.stop();
    expect(server.events.observed).to.equal(false);
    expect([...(await samples(registry)).keys()]).to.deep.equal(['app_jobs_total']);
    // The names are free again: collecting a second time into the same registry works.
    collectMetrics(server, { registry, defaultMetrics: false }).stop();
  });

  it('is the only thing that loads prom-client (a tenth of a second): rxwire and its command do not, until metrics are asked for', () => {
    const loaded = "Object.keys(require.cache).some((file) => file.includes('/node_modules/prom-client/'))";
    const script = `require('rxwire'); require('./lib/cli/program'); const before = ${loaded}; require('rxwire').collectMetrics([]); console.log(before, ${loaded});`;
    const run = spawnSync(process.execPath, [...transpileFlags, '-e', script], { cwd: root, encoding: 'utf8' });
    expect(run.stdout.trim(), run.stderr).to.equal('false true');
  });
});
