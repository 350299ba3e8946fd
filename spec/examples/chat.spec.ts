import { expect } from 'chai';
import * as net from 'node:net';
import { chatRoom } from '../../examples/chat';
import { collectLines, dial, eventually, portOf, startProgram, startServer } from '../support/net';

/** A chat client that keeps every line it hears. */
async function join(port: number): Promise<{ socket: net.Socket; heard: string[]; address: string }> {
  const socket = await dial({ port });
  const heard: string[] = [];
  collectLines(socket, heard);
  return { socket, heard, address: `127.0.0.1:${socket.localPort}` };
}

describe('examples/chat.ts', function () {
  this.timeout(30000);

  it('delivers every line to every other client, prefixed with the sender, among 20 clients', async () => {
    const server = await startServer(chatRoom());
    try {
      const clients = await Promise.all(Array.from({ length: 20 }, () => join(server.port!)));
      await eventually(() => server.connections === 20, 5000, 'everyone to join');
      clients.forEach((client, i) => client.socket.write(`hello from ${i}\nbye from ${i}\n`));
      await eventually(() => clients.every((c) => c.heard.length === 38), 10000, 'every line to arrive');
      clients.forEach((client, i) => {
        const expected = clients.flatMap((other, j) => (j === i ? [] : [`${other.address}: hello from ${j}`, `${other.address}: bye from ${j}`]));
        expect([...client.heard].sort()).to.deep.equal(expected.sort());
        // One sender's lines arrive in the order it sent them.
        const fromFirst = client.heard.filter((l) => l.startsWith(`${clients[i === 0 ? 1 : 0].address}:`));
        expect(fromFirst[0]).to.match(/hello/);
      });
      clients.forEach((c) => c.socket.destroy());
    } finally {
      await server.close();
    }
  });

  it('removes a client that leaves: the others go on and its connection ends', async () => {
    const server = await startServer(chatRoom());
    try {
      const [a, b, c] = await Promise.all([join(server.port!), join(server.port!), join(server.port!)]);
      await eventually(() => server.connections === 3, 5000, 'three clients');
      c.socket.end();
      await eventually(() => server.connections === 2, 5000, 'the leaver to be gone');
      a.socket.write('still here\n');
      await eventually(() => b.heard.length === 1, 5000, 'b to hear a');
      expect(b.heard).to.deep.equal([`${a.address}: still here`]);
      [a, b].forEach((x) => x.socket.destroy());
    } finally {
      await server.close();
    }
  });

  it('does not let a client that never reads stall the others', async () => {
    const server = await startServer(chatRoom());
    try {
      const slow = await dial({ port: server.port! });
      slow.pause();
      const [talker, listener] = await Promise.all([join(server.port!), join(server.port!)]);
      await eventually(() => server.connections === 3, 5000, 'three clients');
      const line = 'x'.repeat(1000);
      // 20 MB to the room, far more than the slow client's buffers hold, in batches the way
      // people type: the listener keeps up, the slow client falls behind and misses lines.
      for (let batch = 1; batch <= 200; batch++) {
        talker.socket.write(`${line}\n`.repeat(100));
        await eventually(() => listener.heard.length === batch * 100, 5000, `the listener to hear batch ${batch}`);
      }
      expect(listener.heard.every((l) => l === `${talker.address}: ${line}`)).to.equal(true);
      [slow, talker.socket, listener.socket].forEach((s) => s.destroy());
    } finally {
      await server.close();
    }
  });

  it('runs as a program', async () => {
    const program = await startProgram('examples/chat.ts', ['--port', '0', '--host', '127.0.0.1']);
    try {
      const [a, b] = await Promise.all([join(portOf(program.address)), join(portOf(program.address))]);
      await eventually(() => program.stderr.filter((l) => / #\d+ open /.test(l)).length === 2, 5000, 'both to join');
      a.socket.write('hi\n');
      await eventually(() => b.heard.length === 1, 5000, 'b to hear a');
      expect(b.heard).to.deep.equal([`${a.address}: hi`]);
      [a, b].forEach((x) => x.socket.destroy());
    } finally {
      program.child.kill('SIGKILL');
    }
  });
});
