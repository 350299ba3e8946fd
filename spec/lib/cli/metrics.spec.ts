import { expect } from 'chai';
import * as net from 'node:net';
import { closed, closedPort, dial, isAlive, listening, Program, runProgram, udpClient, eventually } from '../../support/net';
import { hasPrometheusTool, PrometheusServer, promtoolCheckMetrics } from '../../support/prometheus';

// `rxwire --metrics`: a real Prometheus (Debian's package) scrapes a real `rxwire --workers 2`
// every second and is asked, through its HTTP API, for what the spec did. Every socket on 127.0.0.1.

const STARTUP_MS = 60_000;
const IDLE_MS = 1500;
const PER_ADDRESS = 3;

function rxwire(...args: string[]): Program {
  return runProgram('lib/cli/rxwire.ts', args);
}

/** Kills the program and its workers (its process group), if still there. */
function stop(program: Program): Promise<unknown> {
  if (isAlive(-program.child.pid!)) process.kill(-program.child.pid!, 'SIGKILL');
  return program.exit;
}

/** A connection's greeting (the worker's PID), or undefined when it was closed first (refused). */
async function greeting(socket: net.Socket): Promise<number | undefined> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve(undefined), 5000);
    socket.on('data', function onData(chunk: Buffer) {
      text += chunk.toString('latin1');
      if (!text.includes('\n')) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(Number(text.slice(0, text.indexOf('\n'))));
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

/** Text sent, and the connection closed once the server has closed it (or, after `end`, once it answered and closed). */
async function session(port: number, send: string | undefined, end: boolean): Promise<number | undefined> {
  const socket = await dial({ port });
  const pid = await greeting(socket);
  socket.resume();
  if (send !== undefined) socket.write(send);
  if (end) socket.end();
  await closed(socket);
  return pid;
}

describe('rxwire --workers 2 --metrics, scraped by a real Prometheus', function () {
  this.timeout(120_000);
  let server: Program & { address: string };
  let prometheus: PrometheusServer | undefined;
  let metricsAddress: string;
  const made = { opened: 0, refused: 0, bytesIn: 0, pids: new Set<number>() };

  before(async function () {
    if (!hasPrometheusTool('prometheus')) return this.skip();
    metricsAddress = `127.0.0.1:${await closedPort()}`;
    const args = ['--workers', '2', '--handler', 'spec/support/metricsHandler.ts', '--host', '127.0.0.1', '--port', '0'];
    server = await listening(rxwire(...args, '--idle-ms', String(IDLE_MS), '--max-connections-per-address', String(PER_ADDRESS), '--metrics', metricsAddress, '-q'), STARTUP_MS);
    prometheus = await PrometheusServer.start(metricsAddress);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.log(`rxwire's stderr:\n${server.stderr.join('\n')}`);
  });

  after(async () => {
    await prometheus?.stop();
    if (server) await stop(server);
  });

  it('announces where it serves the metrics, after the listening line', async () => {
    await eventually(() => server.stdout.length >= 2, 5000, 'the metrics line');
    expect(server.stdout).to.deep.equal([`listening on ${server.address}`, `metrics on http://${metricsAddress}/metrics`]);
  });

  it('reports rxwire_connections_opened_total equal to the connections made across both workers, and each close reason', async () => {
    const port = Number(server.address.split(':')[1]);
    // Normal ends, one at a time, until both workers have served some (the kernel picks which).
    while (made.pids.size < 2 || made.opened < 6) {
      if (made.opened >= 60) throw new Error(`one worker served all of ${made.opened} connections`);
      const pid = await session(port, 'hello\n', true);
      made.opened++;
      made.bytesIn += 6;
      made.pids.add(pid!);
    }
    const ended = made.opened;
    // A frame too long, a handler error, an idle timeout: at once, PER_ADDRESS connections at most.
    await Promise.all([session(port, 'x'.repeat(40) + '\n', false), session(port, 'boom\n', false), session(port, undefined, false)]);
    made.opened += 3;
    made.bytesIn += 41 + 5;
    // More connections at once than both workers take from one address: those past it are refused.
    const crowd = await Promise.all(Array.from({ length: 4 * PER_ADDRESS }, () => dial({ port })));
    const greeted = await Promise.all(crowd.map(greeting));
    const accepted = greeted.filter((pid) => pid !== undefined).length;
    made.opened += accepted;
    made.refused += crowd.length - accepted;
    expect(accepted).to.be.within(PER_ADDRESS, 2 * PER_ADDRESS);
    crowd.forEach((socket) => socket.end());
    await Promise.all(crowd.map(closed));

    await prometheus!.waitFor('sum(rxwire_connections_open)', 0);
    await prometheus!.waitFor('sum(rxwire_received_bytes_total)', made.bytesIn);
    await prometheus!.waitFor('sum(rxwire_frames_decoded_total{codec="lines"})', ended + 1);
    await prometheus!.waitFor('sum(rxwire_protocol_errors_total{codec="lines"})', 1);
    await prometheus!.waitFor('sum(rxwire_connections_opened_total)', made.opened);
    await prometheus!.waitFor('sum(rxwire_connections_refused_total{reason="per-address"})', made.refused);
    await prometheus!.waitFor('sum(rxwire_connections_closed_total{reason="protocol-error"})', 1);
    await prometheus!.waitFor('sum(rxwire_connections_closed_total{reason="handler-error"})', 1);
    await prometheus!.waitFor('sum(rxwire_handler_errors_total)', 1);
    await prometheus!.waitFor('sum(rxwire_connections_closed_total{reason="idle"})', 1);
    await prometheus!.waitFor('sum(rxwire_connections_closed_total{reason="end"})', ended + accepted);
    await prometheus!.waitFor('sum(rxwire_connection_duration_seconds_count)', made.opened);

    // A worker that dies is counted by the primary (and takes its own counts with it).
    await prometheus!.waitFor('rxwire_worker_exits_total', 0);
    process.kill([...made.pids][0]!, 'SIGKILL');
    await prometheus!.waitFor('rxwire_worker_exits_total', 1);
  });

  it('serves text that promtool check metrics finds no problem with, summed over the workers', async function () {
    if (!hasPrometheusTool('promtool')) return this.skip();
    const text = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    expect(text).to.include('# TYPE rxwire_connections_opened_total counter');
    expect(text).to.include('process_cpu_seconds_total');
    const check = promtoolCheckMetrics(text);
    expect(check, check.output).to.deep.equal({ status: 0, output: '' });
  });
});

describe('rxwire --udp --metrics', function () {
  this.timeout(60_000);

  it("serves a UDP server's sessions and bytes, and exits 1 naming the metrics when its port is taken", async () => {
    const metricsPort = await closedPort();
    const server = await listening(rxwire('--udp', '--host', '127.0.0.1', '--port', '0', '--metrics', `127.0.0.1:${metricsPort}`, '-q'));
    try {
      const client = await udpClient();
      try {
        client.send('hi', Number(server.address.split(':')[1]), '127.0.0.1');
        await eventually(() => client.received.length === 1, 5000, 'the reply');
      } finally {
        client.close();
      }
      const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(text).to.include('rxwire_connections_opened_total{transport="udp"} 1\n');
      expect(text).to.include('rxwire_received_bytes_total{transport="udp"} 2\n');
      const taken = rxwire('--udp', '--host', '127.0.0.1', '--port', '0', '--metrics', `127.0.0.1:${metricsPort}`);
      try {
        expect(await taken.exit).to.equal(1);
        expect(taken.stderr.join('\n')).to.include(`rxwire: metrics: listen EADDRINUSE: address already in use 127.0.0.1:${metricsPort}`);
      } finally {
        taken.child.kill('SIGKILL'); // it should have exited: never left behind if it did not
      }
    } finally {
      await stop(server);
    }
  });

  it('exits 2 naming --metrics when its value is bad', async () => {
    const bad = rxwire('--metrics', 'localhost');
    expect(await bad.exit).to.equal(2);
    expect(bad.stderr).to.deep.equal(['rxwire: --metrics: expected [HOST:]PORT (an IPv6 host in brackets: [::1]:9464) with PORT a whole number from 0 to 65535, got "localhost"']);
  });
});
