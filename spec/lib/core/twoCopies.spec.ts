import { expect } from 'chai';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { map, pipe, tap } from 'rxjs';
import * as rxwire from 'rxwire';
import { upperBytes } from '../../../handlers/upper';
import { delay, dial, eventually, root, startServer } from '../../support/net';

// A handler module with its own node_modules/rxwire loads a second copy of the package: its
// operators and errors must still work with the server's copy.
describe('two copies of rxwire in one process', function () {
  this.timeout(30000);
  let dir: string;
  let copy: typeof rxwire;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'rxwire-copy-'));
    cpSync(path.join(root, 'lib'), path.join(dir, 'lib'), { recursive: true });
    symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
    copy = require(path.join(dir, 'lib', 'index.ts'));
    expect(copy.lines).to.not.equal(rxwire.lines);
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("share one error family: instanceof holds across copies, by class and by code", () => {
    const theirs = new copy.FrameTooLong(10, 5);
    expect(theirs).to.be.instanceOf(rxwire.FrameTooLong).and.instanceOf(rxwire.ProtocolError).and.instanceOf(rxwire.RxwireError);
    expect(theirs).to.not.be.instanceOf(rxwire.IncompleteFrame);
    expect(new rxwire.IdleTimeout(5)).to.be.instanceOf(copy.IdleTimeout).and.not.instanceOf(copy.ProtocolError);
    expect(theirs.code).to.equal('ERR_FRAME_TOO_LONG');
  });

  it("log the other copy's FrameTooLong as the peer's protocol error", async () => {
    const server = await startServer(pipe(copy.lines({ maxLength: 4 }), copy.encodeLines()));
    try {
      const socket = await dial({ port: server.port });
      socket.end('far too long\n');
      await eventually(() => server.logs.some((line) => line.includes('protocol error: frame of at least 5 bytes exceeds the 4-byte limit')));
    } finally {
      await server.close();
    }
  });

  it("give the other copy's flow operators their connection: backpressure holds reads", async () => {
    const counter = { read: 0 };
    const server = await startServer(pipe(copy.backpressure(), tap((chunk: Buffer) => (counter.read += chunk.length)), map(upperBytes)));
    try {
      const socket = await dial({ port: server.port });
      socket.pause();
      const piece = Buffer.alloc(1 << 20, 'abcdefgh');
      for (let i = 0; i < 48; i++) socket.write(piece);
      await delay(800);
      // Without flow control the server would read all 48 MB; held, it stops at a few MB of buffers.
      expect(counter.read).to.be.lessThan(24 << 20);
      socket.destroy();
    } finally {
      await server.close(0);
    }
  });
});
