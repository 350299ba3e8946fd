import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { from, lastValueFrom, map, mergeMap, take } from 'rxjs';
import { connect, ConnectionInfo, connectDatagram, ConnectOptions, Handler, Server, ServeOptions, Transport } from 'rxwire';
import upper, { upperBytes } from '../../../handlers/upper';
import { hasIPv6, selfSignedCert, startDatagramServer, startServer, collectBytes } from '../../support/net';

interface Served {
  server: Server;
  /** Sends the pieces (over UDP each as one datagram; over a stream, then half-closes) and resolves with the whole reply. */
  exchange(pieces: Buffer[]): Promise<Buffer>;
  close(): Promise<void>;
}

interface Case {
  name: string;
  transport: Transport;
  available?: () => Promise<boolean>;
  serve(handler: Handler): Promise<Served>;
}

/** A stream transport: `serve` and `connect` with the options the case gives them. */
function streamCase(name: string, transport: Transport, options: () => { serve: ServeOptions; connect: (server: Server) => ConnectOptions; cleanUp?: () => void }): Case {
  return {
    name,
    transport,
    async serve(handler) {
      const { serve, connect: connectOptions, cleanUp } = options();
      const server = await startServer(handler, serve);
      return {
        server,
        exchange: (pieces) => lastValueFrom(connect(connectOptions(server)).pipe(mergeMap((conn) => conn.exchange(from(pieces))), collectBytes)),
        close: async () => {
          await server.close();
          cleanUp?.();
        },
      };
    },
  };
}

const cases: Case[] = [
  streamCase('TCP over IPv4', 'tcp', () => ({ serve: {}, connect: (server) => ({ port: server.port }) })),
  {
    ...streamCase('TCP over IPv6', 'tcp', () => ({ serve: { host: '::1' }, connect: (server) => ({ host: '::1', port: server.port }) })),
    available: hasIPv6,
  },
  streamCase('a Unix domain socket', 'unix', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxwire-'));
    const socketPath = path.join(dir, 'upper.sock');
    return {
      serve: { host: undefined, port: undefined, path: socketPath },
      connect: () => ({ path: socketPath }),
      cleanUp: () => rmSync(dir, { recursive: true, force: true }),
    };
  }),
  streamCase('TLS', 'tls', () => {
    const { cert, key } = selfSignedCert();
    return { serve: { tls: { cert, key } }, connect: (server) => ({ port: server.port, tls: { ca: cert } }) };
  }),
  {
    name: 'UDP',
    transport: 'udp',
    async serve(handler) {
      const server = await startDatagramServer(handler);
      return {
        server,
        // One reply datagram for each datagram sent.
        exchange: (pieces) =>
          lastValueFrom(
            connectDatagram({ port: server.port, timeoutMs: 5000 }).pipe(
              mergeMap((conn) => conn.exchange(from(pieces))),
              take(pieces.length),
              collectBytes,
            ),
          ),
        close: () => server.close(),
      };
    },
  },
];

// One spec body, run over every transport with the same handler: a handler written once runs on each.
for (const transport of cases) {
  describe(`the upper handler over ${transport.name}`, () => {
    let served: Served | undefined;
    before(async function () {
      if (transport.available && !(await transport.available())) this.skip();
    });
    afterEach(async () => {
      await served?.close();
      served = undefined;
    });

    it('answers a round trip with the uppercase', async () => {
      served = await transport.serve(upper);
      expect((await served.exchange([Buffer.from('Hello '), Buffer.from('Huangpingyi')])).toString()).to.equal('HELLO HUANGPINGYI');
    });

    it('passes all 256 byte values, uppercasing only a to z', async () => {
      served = await transport.serve(upper);
      const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      expect(await served.exchange([every])).to.deep.equal(upperBytes(every));
    });

    it('serves 20 concurrent clients, each its own reply', async () => {
      served = await transport.serve(upper);
      const { exchange } = served;
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => exchange([Buffer.from(`client ${i} says hi`)])));
      replies.forEach((reply, i) => expect(reply.toString()).to.equal(`CLIENT ${i} SAYS HI`));
    });

    it('tells the handler its transport and both ends, formatted alike', async () => {
      const describeConnection: Handler = (input, info) => input.pipe(take(1), map(() => Buffer.from(JSON.stringify(info))));
      served = await transport.serve(describeConnection);
      const info: ConnectionInfo = JSON.parse((await served.exchange([Buffer.from('who am I?')])).toString());
      expect(info.transport).to.equal(transport.transport);
      expect(info.local).to.equal(served.server.address);
      if (transport.transport === 'unix') expect(info.remote).to.equal(served.server.address);
      else expect(info.remote).to.match(/^(127\.0\.0\.1|\[::1\]):\d+$/);
    });
  });
}
