// ping over a raw ICMP socket, built from RxJS operators: one echo request every --interval-ms,
// each reply printed as it comes, then the summary; exit 0 when every request got its reply.
//   npx ts-node examples/ping.ts HOST [--count N] [--interval-ms N] [--timeout-ms N]
// Raw sockets need root or CAP_NET_RAW. An IPv6 HOST (::1) pings over ICMPv6.
import { isRight } from 'fp-ts/Either';
import { randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { decodeIcmpEcho, encodeIcmpEcho, IcmpEcho, rawSocket } from 'rxwire';
import { exitWith } from 'rxwire/cli';
import { count, distinct, filter, from, map, merge, mergeMap, take, takeUntil, tap, timer } from 'rxjs';

const USAGE = 'usage: ping HOST [--count N] [--interval-ms N] [--timeout-ms N]';
const PAYLOAD = Buffer.alloc(56, 0x61); // the classic 56 bytes: 64 with the ICMP header

function wholeNumberFlag(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > 65535) return exitWith(2, `ping: --${name}: expected a whole number from ${min} to 65535, got ${JSON.stringify(value)}`);
  return Number(value);
}

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: { count: { type: 'string' }, 'interval-ms': { type: 'string' }, 'timeout-ms': { type: 'string' }, help: { type: 'boolean' } },
  });
}
try {
  args = parse();
} catch (err) {
  exitWith(2, `ping: ${(err as Error).message.split('\n')[0]}`);
}
if (args.values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args.positionals.length !== 1) exitWith(2, `ping: expected one HOST (${USAGE})`);
const host = args.positionals[0]!;
const requestCount = wholeNumberFlag('count', args.values.count, 3, 1);
const intervalMs = wholeNumberFlag('interval-ms', args.values['interval-ms'], 1000, 1);
const timeoutMs = wholeNumberFlag('timeout-ms', args.values['timeout-ms'], 2000, 1);

async function main(): Promise<void> {
  const address = isIP(host) ? host : (await lookup(host)).address;
  const family = isIP(address) === 6 ? 6 : 4;
  const identifier = randomInt(0x10000);
  const sentAt = new Map<number, number>();

  const request = (sequence: number) => {
    sentAt.set(sequence, performance.now());
    return { data: encodeIcmpEcho({ kind: 'request', identifier, sequence, payload: PAYLOAD }, family), address };
  };
  // A raw socket sees every ICMP packet reaching the host: keep only replies to our requests.
  const isOurReply = (echo: IcmpEcho) => echo.kind === 'reply' && echo.identifier === identifier && sentAt.has(echo.sequence);

  const ping = rawSocket({ protocol: family === 6 ? 'icmpv6' : 'icmp', family }).pipe(
    mergeMap((socket) => {
      const requests = timer(0, intervalMs).pipe(take(requestCount), map((i) => request(i + 1)));
      const replies = socket.input.pipe(
        map((packet) => decodeIcmpEcho(packet.data, family)),
        filter(isRight),
        map((decoded) => decoded.right),
        filter(isOurReply),
        distinct((echo) => echo.sequence),
        take(requestCount),
        takeUntil(timer((requestCount - 1) * intervalMs + timeoutMs)),
        tap((echo) => {
          const ms = performance.now() - sentAt.get(echo.sequence)!;
          console.log(`${echo.payload.length + 8} bytes from ${host}: icmp_seq=${echo.sequence} time=${ms.toFixed(3)} ms`);
        }),
      );
      return merge(socket.send(requests), replies).pipe(count());
    }),
    // The socket stays open until unsubscribed: the one count ends it.
    take(1),
  );

  ping.subscribe({
    error: (err: Error) => exitWith(1, `ping: ${err.message}`),
    next: (received) => {
      const loss = Math.round((100 * (sentAt.size - received)) / sentAt.size);
      console.log(`${sentAt.size} packets transmitted, ${received} received, ${loss}% packet loss`);
      process.exit(received === requestCount ? 0 : 1);
    },
  });
}

from(main()).subscribe({ error: (err: Error) => exitWith(1, `ping: ${err.message}`) });
