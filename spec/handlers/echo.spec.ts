import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import echo from '../../handlers/echo';
import { roundTrip, startServer } from '../support/net';

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
});
