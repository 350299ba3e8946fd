// The bar: the same servers hand-written on plain node:net, run as their own process.
import * as net from 'node:net';
import { CARRIAGE_RETURN, NEWLINE, upperAscii, upperInto } from '../ascii';
import { runServerProcess } from './child';
import { Protocol } from './protocol';

/** What one connection does with its bytes: `push` answers a chunk, `end` answers the peer's EOF. */
interface Answerer {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
}

const EMPTY = Buffer.alloc(0);
// lines()'s default limit (issue #3): a longer line closes the connection.
const MAX_LINE_LENGTH = 64 * 1024;

const chunkUppercaser: Answerer = { push: upperAscii, end: () => EMPTY };

/**
 * Splits lines by hand the way `lines()` + `encodeLines()` frame them: every line uppercased, a
 * trailing `\r` dropped, `\n` appended, a last unterminated line answered at EOF. All the lines
 * completed by one chunk go out in one write.
 */
class LineUppercaser implements Answerer {
  /** The start of a line that the next chunk should finish. */
  private partial = EMPTY;

  push(chunk: Buffer): Buffer {
    let newline = chunk.indexOf(NEWLINE);
    if (newline < 0) {
      this.keepPartial(chunk, 0);
      return EMPTY;
    }
    const out = Buffer.allocUnsafe(this.partial.length + chunk.length);
    let at = upperInto(this.partial, 0, this.partial.length, out, 0);
    let lineStart = 0;
    let from = 0;
    while (newline >= 0) {
      at = endLine(out, lineStart, upperInto(chunk, from, newline, out, at));
      lineStart = at;
      from = newline + 1;
      newline = chunk.indexOf(NEWLINE, from);
    }
    this.partial = EMPTY;
    this.keepPartial(chunk, from);
    return out.subarray(0, at);
  }

  end(): Buffer {
    if (this.partial.length === 0) return EMPTY;
    const out = Buffer.allocUnsafe(this.partial.length + 1);
    const at = endLine(out, 0, upperInto(this.partial, 0, this.partial.length, out, 0));
    this.partial = EMPTY;
    return out.subarray(0, at);
  }

  private keepPartial(chunk: Buffer, from: number): void {
    if (from === chunk.length) return;
    if (this.partial.length + chunk.length - from > MAX_LINE_LENGTH) throw new RangeError('line too long');
    // A copy, so that a short tail does not pin the whole 64 KiB read.
    this.partial = Buffer.concat([this.partial, chunk.subarray(from)]);
  }
}

/** Drops a `\r` that ends the line written to `out[lineStart, at)`, appends `\n`; returns where it stopped. */
function endLine(out: Buffer, lineStart: number, at: number): number {
  if (at > lineStart && out[at - 1] === CARRIAGE_RETURN) at--;
  out[at++] = NEWLINE;
  return at;
}

/** Node's rules by hand: pause on a false `write`, resume on `drain`, end after the peer ends and output is flushed. */
function serveConnection(socket: net.Socket, answerer: Answerer): void {
  socket.on('data', (chunk: Buffer) => {
    let out: Buffer;
    try {
      out = answerer.push(chunk);
    } catch {
      return socket.destroy();
    }
    if (out.length > 0 && !socket.write(out)) socket.pause();
  });
  socket.on('drain', () => socket.resume());
  socket.on('end', () => {
    const tail = answerer.end();
    if (tail.length > 0) socket.write(tail);
    socket.end();
  });
  socket.on('error', () => socket.destroy());
}

function listenBaseline(protocol: Protocol): Promise<number> {
  const newAnswerer = protocol === 'upper' ? () => chunkUppercaser : () => new LineUppercaser();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => serveConnection(socket, newAnswerer()));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve((server.address() as net.AddressInfo).port));
  });
}

runServerProcess(listenBaseline);
