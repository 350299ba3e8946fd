import { expect } from 'chai';
import reverseLines from '../../handlers/reverse-lines';
import { delay, dial, eventually, portOf, rssOf, roundTrip, startProgram, startServer } from '../support/net';
import { FrameTooLong } from 'rxwire';
import { everySplit, expectHandler } from 'rxwire/testing';

const MB = 1024 * 1024;

describe('handlers/reverse-lines', () => {
  it('answers every line reversed, whatever the chunks, characters kept whole', async () => {
    const server = await startServer(reverseLines);
    try {
      const reply = await roundTrip({ port: server.port }, Buffer.from('hello\r\nwor'), Buffer.from('ld\nnaïve 東京\nno newline'));
      expect(reply.toString()).to.equal('olleh\ndlrow\n京東 evïan\nenilwen on\n');
    } finally {
      await server.close();
    }
  });

  it('refuses a 100 MB line with no newline as FrameTooLong while server memory stays flat', async function () {
    this.timeout(60000);
    const server = await startProgram('lib/cli/rxwire.ts', ['--handler', 'reverse-lines', '--port', '0', '--host', '127.0.0.1']);
    try {
      await delay(200);
      const baseline = rssOf(server.child.pid!);
      const socket = await dial({ port: portOf(server.address) });
      socket.on('error', () => {});
      const closed = new Promise((resolve) => socket.once('close', resolve));
      const piece = Buffer.alloc(MB, 'x');
      let peak = baseline;
      for (let i = 0; i < 100 && !socket.destroyed; i++) {
        if (!socket.write(piece)) await Promise.race([new Promise((r) => socket.once('drain', r)), closed]);
        peak = Math.max(peak, rssOf(server.child.pid!));
      }
      await closed;
      expect(peak - baseline).to.be.lessThan(32 * MB);
      await eventually(() => server.stderr.some((l) => /Z #\d+ protocol error: frame of at least \d+ bytes exceeds the 65536-byte limit$/.test(l)), 5000, 'the log line');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  describe('with rxwire/testing, in virtual time', () => {
    it('answers a line once its end has come, and a last line without one when the input ends', () => {
      expectHandler(reverseLines, 'a-b-c|', { a: 'hel', b: 'lo\r\nwor', c: 'ld' }).toBe('--x--(y|)', { x: 'olleh\n', y: 'dlrow\n' });
    });

    it('ends the connection with FrameTooLong at a line over 64 KiB', () => {
      expectHandler(reverseLines, 'ab', { a: 'ok\n', b: 'x'.repeat(65 * 1024) }).toBe('a#', { a: 'ko\n' }, FrameTooLong.pastLimit(65536));
    });

    it('answers the same lines however the input is split into reads', () => {
      everySplit(reverseLines, 'hello\r\nnaïve 東京\nno newline');
    });
  });
});
