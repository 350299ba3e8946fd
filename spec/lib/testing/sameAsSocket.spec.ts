import { expect } from 'chai';
import { map, pipe } from 'rxjs';
import { encodeLines, Handler, lines } from 'rxwire';
import { everySplit, expectHandler } from 'rxwire/testing';
import { upperBytes } from '../../../handlers/upper';
import { dial, eventually, readAll, startServer } from '../../support/net';

/** Uppercases lines, and throws on `boom`: a handler fault in the middle of a read. */
const faulty: Handler = pipe(
  lines(),
  map((line) => {
    if (line.toString() === 'boom') throw new Error('kaboom');
    return upperBytes(line);
  }),
  encodeLines(),
);

const input = 'one\nboom\nthree\n';

/** What a real socket gets when the peer sends `pieces`, each a write of its own once the last was answered. */
async function overSocket(pieces: string[]): Promise<{ reply: string; logs: string[] }> {
  const server = await startServer(faulty);
  try {
    const socket = await dial({ port: server.port });
    socket.on('error', () => {});
    const reply = readAll(socket);
    for (const piece of pieces) {
      socket.write(piece);
      await eventually(() => server.logs.some((line) => line.includes('handler error')) || socket.bytesRead > 0, 5000, 'a reply');
    }
    const bytes = (await reply).toString();
    socket.destroy();
    return { reply: bytes, logs: server.logs.filter((line) => line.includes('handler error')) };
  } finally {
    await server.close();
  }
}

describe('the test kit against a real socket, for a handler that fails in the middle of a read', () => {
  it('over a socket: the reply to the good line before the fault goes out, then the connection ends', async () => {
    const { reply, logs } = await overSocket([input]);
    expect(reply).to.equal('ONE\n');
    expect(logs).to.have.lengthOf(1).and.to.satisfy((found: string[]) => found[0].endsWith('handler error: kaboom'));
  });

  it('over a socket: the same when the good line came in a read of its own', async () => {
    expect((await overSocket(['one\n', 'boom\nthree\n'])).reply).to.equal('ONE\n');
  });

  it('expectHandler gives the bytes the socket sends, then the error', async () => {
    const { reply } = await overSocket([input]);
    expectHandler(faulty, 'a', { a: input }).toBe('(x#)', { x: reply }, new Error('kaboom'));
  });

  it('everySplit finds the same outcome however the read is split', () => {
    everySplit(faulty, input, { randomSplits: 20 });
  });
});
