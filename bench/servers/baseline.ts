// The bar: the same servers hand-written on plain node:net, as a careful Node programmer writes
// them, run as their own process.
import * as net from 'node:net';
import { CARRIAGE_RETURN, NEWLINE, upperInto } from '../ascii';
import { runServerProcess } from './child';
import { FRAME_HEADER_BYTES, Protocol } from './protocol';

/** What one connection does with its bytes: `push` answers a chunk, `end` answers the peer's EOF; both may throw to drop the connection. */
interface Answerer {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
}

const EMPTY = Buffer.alloc(0);
// lines()'s and lengthPrefixed()'s default limits: a longer frame closes the connection.
const MAX_LINE_LENGTH = 64 * 1024;

/** Each read uppercased where it lies by table lookup, and written back as it is: no copy, one write per read. */
const chunkUppercaser: Answerer = {
  push: (chunk) => {
    upperInto(chunk, 0, chunk.length, chunk, 0);
    return chunk;
  },
  end: () => EMPTY,
};

/**
 * Splits lines by hand with `indexOf` the way `lines()` + `encodeLines()` frame them: every line
 * uppercased, a trailing `\r` dropped, `\n` appended, a last unterminated line answered at EOF.
 * All the lines completed by one chunk go out in one write.
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

/**
 * Frames behind a 2-byte big-endian length, as `lengthPrefixed({ headerBytes: 2 })` reads them:
 * each payload uppercased behind the same header. The frames one chunk completes go out in one
 * write; a frame cut at the end of input drops the connection.
 */
class FrameUppercaser implements Answerer {
  /** The start of a frame that the next chunk should finish. */
  private partial = EMPTY;

  push(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(this.partial.length + chunk.length);
    let at = 0;
    let from = 0;
    if (this.partial.length > 0) {
      // Only the partial frame's missing bytes are joined to it, not the whole chunk.
      const joined = Buffer.concat([this.partial, chunk.subarray(0, FRAME_HEADER_BYTES + frameLength(this.partial, chunk) - this.partial.length)]);
      const frameEnd = FRAME_HEADER_BYTES + frameLength(joined, EMPTY);
      if (joined.length < frameEnd) {
        this.partial = joined;
        return EMPTY;
      }
      at = upperFrame(joined, 0, frameEnd, out, 0);
      from = joined.length - this.partial.length;
      this.partial = EMPTY;
    }
    while (chunk.length - from >= FRAME_HEADER_BYTES) {
      const frameEnd = from + FRAME_HEADER_BYTES + chunk.readUInt16BE(from);
      if (frameEnd > chunk.length) break;
      at = upperFrame(chunk, from, frameEnd, out, at);
      from = frameEnd;
    }
    // A copy, so that a short tail does not pin the whole 64 KiB read.
    if (from < chunk.length) this.partial = Buffer.from(chunk.subarray(from));
    return out.subarray(0, at);
  }

  end(): Buffer {
    if (this.partial.length > 0) throw new RangeError('input ended inside a frame');
    return EMPTY;
  }
}

/** The payload length of the frame that starts `first` and goes on in `next`; as long as possible while its header is cut. */
function frameLength(first: Buffer, next: Buffer): number {
  if (first.length >= FRAME_HEADER_BYTES) return first.readUInt16BE(0);
  return next.length === 0 ? 0xffff : (first[0] << 8) | next[0];
}

function upperFrame(src: Buffer, start: number, end: number, out: Buffer, at: number): number {
  out[at] = src[start];
  out[at + 1] = src[start + 1];
  return upperInto(src, start + FRAME_HEADER_BYTES, end, out, at + FRAME_HEADER_BYTES);
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
    let tail: Buffer;
    try {
      tail = answerer.end();
    } catch {
      return socket.destroy();
    }
    if (tail.length > 0) socket.write(tail);
    socket.end();
  });
  socket.on('error', () => socket.destroy());
}

const answerers: Record<Protocol, () => Answerer> = {
  upper: () => chunkUppercaser,
  lines: () => new LineUppercaser(),
  lengthPrefixed: () => new FrameUppercaser(),
};

function listenBaseline(protocol: Protocol): Promise<number> {
  const newAnswerer = answerers[protocol];
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => serveConnection(socket, newAnswerer()));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve((server.address() as net.AddressInfo).port));
  });
}

runServerProcess(listenBaseline);
