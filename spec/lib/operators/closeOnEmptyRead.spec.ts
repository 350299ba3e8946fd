import { expect } from 'chai';
import { lastValueFrom, map, of, Subject, toArray } from 'rxjs';
import { closeOnEmptyRead, Handler } from 'rxwire';
import { dial, eventually, readAll, startServer } from '../../support/net';

describe('closeOnEmptyRead', () => {
  it('ends the input at the first empty read, dropping what follows', async () => {
    const reads = of(Buffer.from('a'), Buffer.from('b'), Buffer.alloc(0), Buffer.from('after'));
    const seen = await lastValueFrom(reads.pipe(closeOnEmptyRead(), toArray()));
    expect(seen.map(String)).to.deep.equal(['a', 'b']);
  });

  it('unsubscribes from the source when it ends, like closing the socket', () => {
    const source = new Subject<Buffer>();
    const seen: string[] = [];
    let completed = false;
    source.pipe(closeOnEmptyRead()).subscribe({ next: (b) => seen.push(String(b)), complete: () => (completed = true) });
    source.next(Buffer.from('x'));
    source.next(Buffer.alloc(0));
    expect(completed).to.equal(true);
    expect(source.observed).to.equal(false);
    expect(seen).to.deep.equal(['x']);
  });

  it('passes every non-empty read through when there is no empty one', async () => {
    const seen = await lastValueFrom(of(Buffer.from('a'), Buffer.from('b')).pipe(closeOnEmptyRead(), toArray()));
    expect(seen.map(String)).to.deep.equal(['a', 'b']);
  });

  it('ends a stream connection at an empty chunk an operator before it made, though the socket never reads one', async () => {
    // A handler whose own framing turns `quit` into the empty read the seed's loop stops at.
    const quitting: Handler = (input) => input.pipe(map((chunk) => (chunk.toString() === 'quit' ? Buffer.alloc(0) : chunk)), closeOnEmptyRead());
    const server = await startServer(quitting);
    try {
      const socket = await dial({ port: server.port });
      const reply = readAll(socket);
      socket.write('a');
      await eventually(() => socket.bytesRead > 0, 5000, 'the echo of a');
      socket.write('quit'); // no end() from us: only the empty chunk can end the server's side
      expect((await reply).toString()).to.equal('a');
      socket.destroy();
    } finally {
      await server.close();
    }
  });
});
