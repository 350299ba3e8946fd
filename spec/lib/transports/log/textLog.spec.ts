import { expect } from 'chai';
import { Subject } from 'rxjs';
import { IdleTimeout } from '../../../../lib/core/errors';
import { ServerEvent } from '../../../../lib/core/events';
import { serverLinesOnly } from '../../../../lib/transports/log/sink';
import { writeTextLog } from '../../../../lib/transports/log/textLog';
import { eventError } from '../../../../lib/transports/serverEvents';

// The text log renders each event as the line servers have always written: the wording is a
// contract. Here every kind of event is rendered; the specs over real sockets check them in place.

function rendered(events: ServerEvent[], quiet = false): { line: string; error?: Error }[] {
  const lines: { line: string; error?: Error }[] = [];
  const sink = (line: string, error?: Error) => void lines.push(error ? { line, error } : { line });
  const stream = new Subject<ServerEvent>();
  writeTextLog(stream, quiet ? serverLinesOnly(sink) : sink);
  events.forEach((event) => stream.next(event));
  stream.next({ type: 'closed' });
  return lines;
}

const boom = new Error('boom');
const EVENTS: ServerEvent[] = [
  { type: 'listening', transport: 'tcp', address: '127.0.0.1:7' },
  { type: 'open', id: 1, transport: 'tcp', remote: '127.0.0.1:5000', local: '127.0.0.1:7' },
  { type: 'handler-error', id: 1, error: eventError(boom) },
  { type: 'close', id: 1, transport: 'tcp', remote: '127.0.0.1:5000', reason: 'handler-error', bytesIn: 12, bytesOut: 3, durationMs: 4, error: eventError(boom) },
  { type: 'close', id: 2, transport: 'tcp', remote: '127.0.0.1:5001', reason: 'idle', bytesIn: 0, bytesOut: 0, durationMs: 300, error: eventError(new IdleTimeout(300)) },
  { type: 'expired', id: 3, idleMs: 200 },
  { type: 'close', id: 3, transport: 'udp', remote: '127.0.0.1:5002', reason: 'idle', bytesIn: 5, bytesOut: 5, datagramsIn: 1, datagramsOut: 1, droppedUnread: 2, durationMs: 201 },
  { type: 'refused', remote: '127.0.0.1:5003', reason: 'max-connections', limit: 1 },
  { type: 'refused', remote: '127.0.0.1:5004', reason: 'tls-handshake', detail: 'the client hung up' },
  { type: 'server-error', error: eventError(new Error('accept EMFILE')) },
  { type: 'shutdown', reason: 'SIGTERM', open: 1, counting: 'connections', graceMs: 300 },
  { type: 'grace-expired', graceMs: 300, cut: 1 },
  { type: 'worker-exit', worker: 2, pid: 4242, code: 1, signal: null, reason: 'cannot listen: EADDRINUSE', livedMs: 300, restartInMs: 100 },
  { type: 'worker-restart', worker: 2, pid: 4243 },
  { type: 'udp-dropped', fromNewPeers: 3, unread: 2, maxPeers: 1 },
];

describe('transports/log/textLog', () => {
  it("renders each event as today's line, a failure with its Error", () => {
    expect(rendered(EVENTS)).to.deep.equal([
      { line: '#1 open 127.0.0.1:5000' },
      { line: '#1 handler error: boom', error: boom },
      { line: '#1 closed 127.0.0.1:5000: 12 bytes in, 3 bytes out, 4 ms' },
      { line: '#2 idle for 300 ms, closing', error: (EVENTS[4] as { error: { cause: Error } }).error.cause },
      { line: '#2 closed 127.0.0.1:5001: 0 bytes in, 0 bytes out, 300 ms' },
      { line: '#3 expired: silent for 200 ms' },
      { line: '#3 closed 127.0.0.1:5002: 1 datagrams (5 bytes) in, 2 dropped unread, 1 datagrams (5 bytes) out, 201 ms' },
      { line: 'refused 127.0.0.1:5003: 1 connections open' },
      { line: 'tls handshake with 127.0.0.1:5004 failed: the client hung up' },
      { line: 'server: accept EMFILE' },
      { line: 'grace period of 300 ms over: cutting 1 connection(s)' },
      { line: 'server: worker 2 (pid 4242) exited with code 1 (cannot listen: EADDRINUSE) after 0.3 s: restarting it in 100 ms' },
      { line: 'closed: 3 datagram(s) from new peers dropped (maxPeers 1), 2 dropped unread' },
    ]);
  });

  it('for a sink that wants the server lines only (-q), leaves out every per-connection kind and keeps the server error, grace and worker lines', () => {
    expect(rendered(EVENTS, true).map((l) => l.line)).to.deep.equal([
      'server: accept EMFILE',
      'grace period of 300 ms over: cutting 1 connection(s)',
      'server: worker 2 (pid 4242) exited with code 1 (cannot listen: EADDRINUSE) after 0.3 s: restarting it in 100 ms',
      'closed: 3 datagram(s) from new peers dropped (maxPeers 1), 2 dropped unread',
    ]);
  });

  it('sums up a storm of refusals and of server errors, said when the server closes', () => {
    const storm: ServerEvent[] = [];
    for (let i = 0; i < 5; i++) storm.push({ type: 'refused', remote: `127.0.0.1:${6000 + i}`, reason: 'per-address', limit: 2, address: '127.0.0.1' });
    for (let i = 0; i < 3; i++) storm.push({ type: 'server-error', error: eventError(new Error('accept EMFILE')) });
    expect(rendered(storm).map((l) => l.line)).to.deep.equal([
      'refused 127.0.0.1:6000: 2 connections open from 127.0.0.1',
      'server: accept EMFILE',
      'refused 4 more connection(s) in the last 1 s',
      'server: 2 more error(s) in the last 1 s',
    ]);
  });
});
