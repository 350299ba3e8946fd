import { expect } from 'chai';
import jsonCalc from '../../handlers/json-calc';
import { dial, eventually, readAll, startServer } from '../support/net';
import { everySplit, expectHandler } from 'rxwire/testing';

/** Sends each request as a line on one connection, then reads the answers as JSON. */
async function ask(port: number, requests: string[]): Promise<unknown[]> {
  const socket = await dial({ port });
  const reply = readAll(socket);
  socket.end(requests.map((r) => `${r}\n`).join(''));
  return (await reply)
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe('handlers/json-calc', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => (server = await startServer(jsonCalc)));
  after(() => server.close());

  it('answers each valid request with its result', async () => {
    expect(
      await ask(server.port!, ['{"op":"add","a":1,"b":2}', '{"op":"sub","a":1,"b":2}', '{"op":"mul","a":1.5,"b":4}', '{"op":"div","a":1,"b":4}']),
    ).to.deep.equal([{ result: 3 }, { result: -1 }, { result: 6 }, { result: 0.25 }]);
  });

  it('answers bad requests with one-line errors and keeps the connection for the next', async () => {
    expect(
      await ask(server.port!, [
        '{"op":"div","a":1,"b":0}',
        '{"op":"pow","a":1,"b":2}',
        '{"op":"add","a":"x","b":2}',
        '{"op":"add","a":1}',
        'not json',
        '{"op":"mul","a":1e308,"b":10}',
        '{"op":"add","a":2,"b":2}',
      ]),
    ).to.deep.equal([
      { error: 'division by zero' },
      { error: '.op: expected "add" | "sub" | "mul" | "div", got "pow"' },
      { error: '.a: expected number, got "x"' },
      { error: '.b: expected number, got nothing' },
      { error: `not JSON: Unexpected token 'o', "not json" is not valid JSON` },
      { error: 'mul: the result is not a finite number' },
      { result: 4 },
    ]);
  });

  it('answers a line over its 4 KiB limit with an error, then ends the connection', async () => {
    const socket = await dial({ port: server.port! });
    const reply = readAll(socket);
    socket.write(`{"op":"add","a":1,"b":2}\n{"pad":"${'x'.repeat(5000)}`);
    // How much past the limit it had read when it stopped depends on how TCP cut the bytes.
    expect((await reply).toString()).to.match(/^\{"result":3\}\n\{"error":"frame of at least \d+ bytes exceeds the 4096-byte limit"\}\n$/);
    socket.destroy();
    await eventually(() => server.connections === 0, 2000, 'the connection to close');
  });

  describe('with rxwire/testing, in virtual time', () => {
    it('answers each request line as it completes', () => {
      expectHandler(jsonCalc, 'a-b-c|', { a: '{"op":"add",', b: '"a":1,"b":2}\n{"op":"div"', c: ',"a":1,"b":0}\n' }).toBe('--x-y|', {
        x: '{"result":3}\n',
        y: '{"error":"division by zero"}\n',
      });
    });

    it('answers a line over its 4 KiB limit with an error, then ends the connection', () => {
      expectHandler(jsonCalc, 'a', { a: `{"op":"add","a":1,"b":2}\n{"pad":"${'x'.repeat(5000)}` }).toBe('(xy|)', {
        x: '{"result":3}\n',
        y: '{"error":"frame of at least 4097 bytes exceeds the 4096-byte limit"}\n',
      });
    });

    it('answers the same however the requests are split into reads', () => {
      everySplit(jsonCalc, '{"op":"mul","a":1.5,"b":4}\nnot json\n{"op":"sub","a":1,"b":2}\n');
    });
  });
});
