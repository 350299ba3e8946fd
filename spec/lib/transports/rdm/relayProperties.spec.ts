import { expect } from 'chai';
import fc from 'fast-check';
import { concat, first, from, ignoreElements, lastValueFrom, map, mergeMap, Observable, takeUntil, tap, timer } from 'rxjs';
import { serveReliableDatagrams } from 'rxwire';
import { connectReliableDatagramFrom } from '../../../../lib/transports/rdm/client';
import { startLossyRelay } from '../../../support/lossyRelay';
import { steady } from '../../../support/net';

const loopback = { retransmitMs: 10, maxRetransmitMs: 40, maxRetries: 60 } as const;
/** Short, so that a pause in a schedule outlasts it and the server forgets the peer mid-stream. */
const idleMs = 120;

/** One life of a client on the relay: its first id, its messages with a pause among them, and whether it is abandoned part-way. */
const life = fc.record({
  firstId: fc.oneof(fc.constant(0), fc.integer({ min: 0xffff_ffff - 20, max: 0xffff_ffff }), fc.integer({ min: 0x7fff_fff0, max: 0x8000_0010 }), fc.nat()),
  messages: fc.integer({ min: 1, max: 24 }),
  pauseAfter: fc.nat({ max: 24 }),
  pauses: fc.boolean(),
  abandonAfterMs: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
});

const network = fc.record({
  seed: fc.nat(),
  loss: fc.double({ min: 0, max: 0.25, noNaN: true }),
  duplicate: fc.double({ min: 0, max: 0.25, noNaN: true }),
  replay: fc.double({ min: 0, max: 0.1, noNaN: true }),
});

describe('reliable datagrams through a lossy, reordering, duplicating relay, with restarts and id wrap', () => {
  it('deliver every message exactly once, whatever the losses, restarts, pauses past idleMs and ids', async function () {
    this.timeout(60_000);
    await fc.assert(
      fc.asyncProperty(network, fc.array(life, { minLength: 1, maxLength: 4 }), async (net, lives) => {
        const delivered: string[] = [];
        const replies: string[] = [];
        const server = await serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: false, idleMs, ...loopback }, (input) =>
          input.pipe(
            tap((m) => delivered.push(m.toString())),
            map((m) => Buffer.from(`re ${m}`)),
          ),
        );
        // Stale copies come up to 60 ms late: less than idleMs, the longest a datagram may live in the network.
        const lifetimeMs = 60;
        const relay = await startLossyRelay({ targetPort: server.port!, ...net, reorderMs: 4, replayMs: lifetimeMs, onePeer: true });
        try {
          const completed: string[] = [];
          for (const [n, { firstId, messages, pauseAfter, pauses, abandonAfterMs: drawn }] of lives.entries()) {
            // The last life always runs to the end, so that every run has acknowledged messages to check.
            const abandonAfterMs = n === lives.length - 1 ? undefined : drawn;
            const texts = Array.from({ length: messages }, (_, i) => `life ${n} message ${i}`);
            const schedule = concat(from(texts.slice(0, pauseAfter)), pauses ? timer(3 * idleMs).pipe(ignoreElements()) : [], from(texts.slice(pauseAfter))).pipe(map((text) => Buffer.from(text)));
            const sending = connectReliableDatagramFrom({ port: relay.port, ...loopback }, firstId).pipe(
              mergeMap(
                (conn) =>
                  new Observable<true>((subscriber) => {
                    const reading = conn.input.subscribe({ next: (reply) => replies.push(reply.toString()), error: (err) => subscriber.error(err) });
                    // The session stays open after: `send` completing says every message was acknowledged.
                    const sent = conn.send(schedule).subscribe({ error: (err) => subscriber.error(err), complete: () => subscriber.next(true) });
                    return () => {
                      reading.unsubscribe();
                      sent.unsubscribe();
                    };
                  }),
              ),
              first(),
            );
            if (abandonAfterMs === undefined) {
              // Sending completes once every message is acknowledged.
              await lastValueFrom(sending);
              completed.push(...texts);
            } else {
              await lastValueFrom(sending.pipe(takeUntil(timer(abandonAfterMs))), { defaultValue: undefined });
              // A restart takes longer than a datagram lives in the network: a session's first datagram
              // arriving after its successor's would be taken for a newer restart (see the README's sessions).
              await lastValueFrom(timer(2 * lifetimeMs));
            }
          }
          await steady(() => delivered.length + replies.length, 150);
          const twice = (all: string[]) => all.filter((m, i) => all.indexOf(m) !== i);
          expect(twice(delivered), 'delivered twice').to.deep.equal([]);
          expect(twice(replies), 'replies received twice').to.deep.equal([]);
          expect(completed.filter((m) => !delivered.includes(m)), 'acknowledged and never delivered').to.deep.equal([]);
        } finally {
          await relay.close();
          await server.close(0);
        }
      }),
      { numRuns: 8, endOnFailure: true },
    );
  });
});
