import { expect } from 'chai';
import { lastValueFrom, map, mergeMap, NEVER, toArray } from 'rxjs';
import * as tls from 'node:tls';
import { encodeLines, lines, serve } from 'rxwire';
import type { Handler, ServerEvent } from 'rxwire';
import { serverLinesOnly } from '../../../lib/transports/log/sink';
import { EventStream } from '../../../lib/transports/serverEvents';
import { closeOf, typesOf, watch } from '../../support/events';
import { closed, delay, dial, eventually, readAll, selfSignedCert } from '../../support/net';

// `server.events`, seen by plain code with no handler of its own in the way: every server tells
// `listening` first, then each connection's `open` and one `close` saying why, with its totals.
// UDP and rdm: datagramEvents.spec.ts.

/** Each line in capitals; a line past 16 bytes is a bad frame; `boom` makes the handler throw. */
const shout: Handler = (input) =>
  input.pipe(
    lines({ maxLength: 16 }),
    map((line) => {
      if (line.toString() === 'boom') throw new Error('the handler blew up');
      return Buffer.from(line.toString().toUpperCase());
    }),
    encodeLines(),
  );

/** Opens a connection, sends `text`, ends, and resolves with the whole reply. */
async function exchange(port: number, text: string): Promise<string> {
  const socket = await dial({ port });
  const reply = readAll(socket);
  socket.end(text);
  return (await reply).toString();
}

describe('server.events', function () {
  this.timeout(20_000);

  describe('over TCP', () => {
    it('a normal end: listening, open, close with reason end and the bytes each way', async () => {
      await using server = await serve({ host: '127.0.0.1', port: 0, log: false }, shout);
      const seen = watch(server);
      expect(await exchange(server.port!, 'hello\n')).to.equal('HELLO\n');
      await eventually(() => seen.some((e) => e.type === 'close'), 5000, 'the close event');
      expect(typesOf(seen)).to.deep.equal(['listening', 'open', 'close']);
      const [listening, open, close] = seen as [Extract<ServerEvent, { type: 'listening' }>, Extract<ServerEvent, { type: 'open' }>, Extract<ServerEvent, { type: 'close' }>];
      expect(listening).to.deep.equal({ type: 'listening', transport: 'tcp', address: server.address });
      expect(open).to.include({ transport: 'tcp', local: server.address });
      expect(open.remote).to.match(/^127\.0\.0\.1:\d+$/);
      expect(close).to.include({ id: open.id, remote: open.remote, transport: 'tcp', reason: 'end', bytesIn: 6, bytesOut: 6 });
      expect(close.durationMs).to.be.within(0, 5000);
      expect(close.error).to.equal(undefined);
    });

    it('an idle timeout: close with reason idle and the IdleTimeout', async () => {
      await using server = await serve({ host: '127.0.0.1', port: 0, log: false, idleMs: 200 }, shout);
      const seen = watch(server);
      const socket = await dial({ port: server.port! });
      await closed(socket);
      await eventually(() => seen.some((e) => e.type === 'close'), 5000, 'the close event');
      expect(typesOf(seen)).to.deep.equal(['listening', 'open', 'close']);
      expect(closeOf(seen)).to.include({ reason: 'idle', bytesIn: 0, bytesOut: 0 });
      expect(closeOf(seen).error).to.include({ name: 'IdleTimeout', code: 'ERR_IDLE_TIMEOUT' });
    });

    it('a bad frame: protocol-error with its code, then close protocol-error after the reply to the good line', async () => {
      await using server = await serve({ host: '127.0.0.1', port: 0, log: false }, shout);
      const seen = watch(server);
      expect(await exchange(server.port!, `ok\n${'x'.repeat(40)}\n`)).to.equal('OK\n');
      await eventually(() => seen.some((e) => e.type === 'close'), 5000, 'the close event');
      expect(typesOf(seen)).to.deep.equal(['listening', 'open', 'protocol-error', 'close']);
      expect(seen[2]).to.deep.include({ id: closeOf(seen).id });
      expect((seen[2] as Extract<ServerEvent, { type: 'protocol-error' }>).error).to.include({ name: 'FrameTooLong', code: 'ERR_FRAME_TOO_LONG' });
      expect(closeOf(seen)).to.include({ reason: 'protocol-error', bytesOut: 3 });
    });

    it("a handler's error: handler-error with the Error, then close handler-error", async () => {
      await using server = await serve({ host: '127.0.0.1', port: 0, log: false }, shout);
      const seen = watch(server);
      expect(await exchange(server.port!, 'fine\nboom\n')).to.equal('FINE\n');
      await eventually(() => seen.some((e) => e.type === 'close'), 5000, 'the close event');
      expect(typesOf(seen)).to.deep.equal(['listening', 'open', 'handler-error', 'close']);
      const failure = seen[2] as Extract<ServerEvent, { type: 'handler-error' }>;
      expect(failure.error).to.include({ name: 'Error', code: undefined, message: 'the handler blew up' });
      expect(failure.error.cause).to.be.instanceOf(Error);
      expect(closeOf(seen)).to.include({ reason: 'handler-error', bytesIn: 10, bytesOut: 5 });
    });

    it('a connection past maxConnections: refused max-connections, with no open and no close of its own', async () => {
      await using server = await serve({ host: '127.0.0.1', port: 0, log: false, maxConnections: 1 }, shout);
      const seen = watch(server);
      const first = await dial({ port: server.port! });
      const firstPort = first.localPort;
      await eventually(() => server.connections === 1, 5000, 'the first connection');
      const second = await dial({ port: server.port! });
      const secondPort = second.localPort;
      await closed(second);
      await eventually(() => seen.some((e) => e.type === 'refused'), 5000, 'the refusal');
      first.end();
      await closed(first);
      await eventually(() => seen.some((e) => e.type === 'close'), 5000, 'the first close');
      expect(typesOf(seen)).to.deep.equal(['listening', 'open', 'refused', 'close']);
      expect(seen[2]).to.deep.equal({ type: 'refused', remote: `127.0.0.1:${secondPort}`, reason: 'max-connections', limit: 1 });
      expect(closeOf(seen)).to.include({ reason: 'end', remote: `127.0.0.1:${firstPort}` });
    });

    it('a connection still open when the grace period runs out: shutdown, grace-expired, close grace-expired, closed; then it completes', async () => {
      const server = await serve({ host: '127.0.0.1', port: 0, log: false }, () => NEVER);
      const seen = watch(server);
      let completed = false;
      server.events.subscribe({ complete: () => (completed = true) });
      const socket = await dial({ port: server.port! });
      // Never read: a handler that never subscribes its input holds the socket paused.
      socket.write('held');
      await eventually(() => server.connections === 1, 5000, 'the connection');
      await server.close(150);
      expect(typesOf(seen)).to.deep.equal(['listening', 'open', 'shutdown', 'grace-expired', 'close', 'closed']);
      expect(seen[2]).to.deep.equal({ type: 'shutdown', reason: 'close()', open: 1, counting: 'connections', graceMs: 150 });
      expect(seen[3]).to.deep.equal({ type: 'grace-expired', graceMs: 150, cut: 1 });
      expect(closeOf(seen)).to.include({ reason: 'grace-expired', bytesIn: 0, bytesOut: 0 });
      expect(completed).to.equal(true);
      // A subscriber after the close is told listening and closed, and completes.
      expect(typesOf(await lastValueFrom(server.events.pipe(toArray())))).to.deep.equal(['listening', 'closed']);
      socket.destroy();
    });

    it('a peer that resets: close with reason reset', async () => {
      await using server = await serve({ host: '127.0.0.1', port: 0, log: false }, (input) => input.pipe(mergeMap(() => NEVER)));
      const seen = watch(server);
      const socket = await dial({ port: server.port! });
      socket.write('x');
      await eventually(() => server.connections === 1, 5000, 'the connection');
      await delay(50);
      socket.resetAndDestroy();
      await eventually(() => seen.some((e) => e.type === 'close'), 5000, 'the close event');
      expect(closeOf(seen)).to.include({ reason: 'reset', bytesIn: 1 });
      expect(closeOf(seen).error).to.include({ code: 'ECONNRESET' });
    });

    it('builds no event at all while nobody subscribes (and log is false)', async () => {
      const emit = EventStream.prototype.emit;
      let emitted = 0;
      EventStream.prototype.emit = function (this: EventStream, event: ServerEvent) {
        emitted++;
        emit.call(this, event);
      };
      try {
        const server = await serve({ host: '127.0.0.1', port: 0, log: false }, shout);
        expect(await exchange(server.port!, 'a\nboom\n')).to.equal('A\n');
        await eventually(() => server.connections === 0, 5000, 'the close');
        await server.close();
        expect(emitted).to.equal(0);
        // The same with a subscriber: what is told is built.
        const watched = await serve({ host: '127.0.0.1', port: 0, log: false }, shout);
        watch(watched);
        await exchange(watched.port!, 'a\n');
        await eventually(() => emitted === 2, 5000, 'open and close');
        await watched.close();
      } finally {
        EventStream.prototype.emit = emit;
      }
    });
  });

  describe('for a log that writes no line about single connections (rxwire -q)', () => {
    it('builds none of those events while nothing else subscribes, and still tells the log the server\'s own', async () => {
      const emit = EventStream.prototype.emit;
      const emitted: string[] = [];
      EventStream.prototype.emit = function (this: EventStream, event: ServerEvent) {
        emitted.push(event.type);
        emit.call(this, event);
      };
      const logged: string[] = [];
      try {
        const server = await serve({ host: '127.0.0.1', port: 0, log: serverLinesOnly((line) => void logged.push(line)) }, () => NEVER);
        const socket = await dial({ port: server.port! });
        await eventually(() => server.connections === 1, 5000, 'the connection');
        await server.close(100);
        await closed(socket);
        expect(emitted).to.deep.equal(['shutdown', 'grace-expired']);
        expect(logged).to.deep.equal(['grace period of 100 ms over: cutting 1 connection(s)']);
        // Anyone else subscribing is told every event, the open and the close included.
        emitted.length = 0;
        const watched = await serve({ host: '127.0.0.1', port: 0, log: serverLinesOnly(() => {}) }, shout);
        const seen = watch(watched);
        await exchange(watched.port!, 'a\n');
        await eventually(() => typesOf(seen).includes('close'), 5000, 'the close');
        expect(emitted).to.deep.equal(['open', 'close']);
        await watched.close();
      } finally {
        EventStream.prototype.emit = emit;
      }
    });
  });

  describe('over TLS', () => {
    it('a failed handshake: refused tls-handshake with what went wrong, and no open', async () => {
      const { cert, key } = selfSignedCert();
      await using server = await serve({ host: '127.0.0.1', port: 0, log: false, tls: { cert, key } }, shout);
      const seen = watch(server);
      const client = tls.connect({ host: '127.0.0.1', port: server.port!, rejectUnauthorized: true });
      await new Promise((resolve) => client.once('error', resolve).once('close', resolve));
      await eventually(() => seen.some((e) => e.type === 'refused'), 5000, 'the refusal');
      expect(typesOf(seen)).to.deep.equal(['listening', 'refused']);
      expect(seen[0]).to.include({ transport: 'tls' });
      expect(seen[1]).to.include({ reason: 'tls-handshake' });
      expect((seen[1] as { remote: string }).remote).to.match(/^127\.0\.0\.1:\d+$/);
      expect((seen[1] as { detail?: string }).detail).to.be.a('string').and.not.equal('');
    });
  });
});
