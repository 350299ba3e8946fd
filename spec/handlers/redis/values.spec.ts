import { expect } from 'chai';
import fc from 'fast-check';
import { redisHandler } from '../../../handlers/redis';
import { roundTrip, startServer } from '../../support/net';

// Keys and values are kept as latin1 strings (handlers/redis/keyspace.ts): every byte must come
// back as it went in, whatever its value, and whatever was in the read around it.

const command = (...args: Buffer[]) =>
  Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.flatMap((arg) => [Buffer.from(`$${arg.length}\r\n`), arg, Buffer.from('\r\n')])]);
const word = (text: string) => Buffer.from(text);
const bulk = (bytes: Buffer) => Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')]);

describe('the redis handler keeps keys and values byte for byte', function () {
  this.timeout(30_000);

  it('gives back any bytes it was given, through SET, GET, APPEND, MGET, STRLEN and GETDEL', async () => {
    const server = await startServer(redisHandler());
    try {
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 20 }), async (keyBytes, valueBytes, moreBytes) => {
          const [key, value, more] = [Buffer.from(keyBytes), Buffer.from(valueBytes), Buffer.from(moreBytes)];
          const reply = await roundTrip(
            { port: server.port },
            Buffer.concat([
              command(word('SET'), key, value),
              command(word('GET'), key),
              command(word('APPEND'), key, more),
              command(word('MGET'), key, word('missing')),
              command(word('STRLEN'), key),
              command(word('GETDEL'), key),
              command(word('GET'), key),
            ]),
          );
          const both = Buffer.concat([value, more]);
          const expected = Buffer.concat([
            Buffer.from('+OK\r\n'),
            bulk(value),
            Buffer.from(`:${both.length}\r\n`),
            Buffer.from('*2\r\n'),
            bulk(both),
            Buffer.from('$-1\r\n'),
            Buffer.from(`:${both.length}\r\n`),
            bulk(both),
            Buffer.from('$-1\r\n'),
          ]);
          expect(reply.toString('hex')).to.equal(expected.toString('hex'));
        }),
        { numRuns: 40 },
      );
    } finally {
      await server.close();
    }
  });
});
