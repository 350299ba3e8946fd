import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import echo from '../../handlers/echo';
import { roundTrip, startServer } from '../support/net';
import { everySplit, expectHandler } from 'rxwire/testing';

describe('handlers/echo', () => {
  it('sends every byte back as it came', async () => {
    const server = await startServer(echo);
    try {
      const data = randomBytes(1 << 20);
      expect((await roundTrip({ port: server.port }, data.subarray(0, 1000), data.subarray(1000))).equals(data)).to.equal(true);
    } finally {
      await server.close();
    }
  });

  describe('with rxwire/testing, in virtual time', () => {
    it('sends each read back in the frame it came', () => {
      expectHandler(echo, 'a 10ms b|', { a: 'ping', b: Buffer.from([0, 0xff]) }).toBe('a 10ms b|', { a: 'ping', b: Buffer.from([0, 0xff]) });
    });

    it('never reads faster than the client reads back', () => {
      const big = 'x'.repeat(100 * 1024);
      expectHandler(echo, 'ab|', { a: big }, { peerReads: '5ms r' }).toRead('a 4ms (b|)', { a: big });
    });

    it('sends the same bytes back however they are split into reads', () => {
      everySplit(echo, 'anything at all\r\n\x00');
    });
  });
});
