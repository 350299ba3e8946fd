import { once } from 'node:events';
import { Socket } from 'node:net';
import { Payload } from './payload';

// What a client hands to write() at a time: the size of one of Node's reads.
const WRITE_SIZE = 64 * 1024;

/**
 * Reads the server's echo of the first `bytes` bytes of `payload`, checking every byte as it
 * arrives; `onVerified` hears the running total after each chunk and may throw to fail the read.
 * Resolves when the server ends the connection having sent exactly that much.
 */
export function readEcho(socket: Socket, payload: Payload, bytes: number, onVerified?: (received: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.on('data', (chunk: Buffer) => {
      const wrong = payload.mismatchAt(chunk, received);
      if (wrong >= 0) {
        const at = received + wrong;
        return fail(new Error(`echo byte ${at} is 0x${hex(chunk[wrong])}, expected 0x${hex(payload.echoByteAt(at))}`));
      }
      received += chunk.length;
      if (received > bytes) return fail(new Error(`server sent ${received} bytes, more than the ${bytes} sent to it`));
      try {
        onVerified?.(received);
      } catch (err) {
        fail(err as Error);
      }
    });
    socket.once('end', () => (received === bytes ? resolve() : fail(new Error(`server ended after ${received} of ${bytes} bytes`))));
    socket.once('error', fail);
    // Settled already when the server ended properly; otherwise it closed without ending.
    socket.once('close', () => fail(new Error(`connection closed after ${received} of ${bytes} bytes, without an end`)));
  });
}

/** Writes the first `bytes` bytes of `payload`, waiting for `drain` whenever `write` says so, then half-closes. */
export async function writeAll(socket: Socket, payload: Payload, bytes: number): Promise<void> {
  for (let offset = 0; offset < bytes; ) {
    const piece = payload.bytesAt(offset, Math.min(WRITE_SIZE, bytes - offset));
    offset += piece.length;
    if (!socket.write(piece)) await once(socket, 'drain');
  }
  socket.end();
}

/** Sends `bytes` of `payload` and checks the whole echo, both ways at once; resolves when the server has ended. */
export async function streamEcho(socket: Socket, payload: Payload, bytes: number): Promise<void> {
  await Promise.all([readEcho(socket, payload, bytes), writeAll(socket, payload, bytes)]);
}

/**
 * `trips` round trips of `size` bytes, one at a time: each message is sent when the previous echo
 * is complete and verified. Each trip's latency in ms goes to `latencies`. Half-closes after the
 * last and resolves when the server has ended.
 */
export function pingPong(socket: Socket, payload: Payload, trips: number, size: number, latencies: Float64Array): Promise<void> {
  let trip = 0;
  let sentAt = 0;
  const send = () => {
    sentAt = performance.now();
    socket.write(payload.bytesAt(trip * size, size));
  };
  const echoed = readEcho(socket, payload, trips * size, (received) => {
    if (received < (trip + 1) * size) return;
    if (received > (trip + 1) * size) throw new Error(`server echoed ${received} bytes, ahead of the ${(trip + 1) * size} sent`);
    latencies[trip++] = performance.now() - sentAt;
    if (trip < trips) send();
    else socket.end();
  });
  send();
  return echoed;
}

/** Sends `size` bytes and half-closes at once; resolves once their echo is verified and the server has ended. */
export function oneShot(socket: Socket, payload: Payload, size: number): Promise<void> {
  const echoed = readEcho(socket, payload, size);
  socket.end(payload.bytesAt(0, size));
  return echoed;
}

/** A connection that has had its greeting echoed and now sits idle. */
export interface IdleConnection {
  /** Half-closes; resolves once the server has ended too, having sent nothing more. */
  close(): Promise<void>;
}

/** Sends `size` bytes and resolves once their echo is verified, leaving the connection open. */
export function greet(socket: Socket, payload: Payload, size: number): Promise<IdleConnection> {
  return new Promise((greeted, failed) => {
    const closed = readEcho(socket, payload, size, (received) => {
      if (received !== size) return;
      const close = () => {
        socket.end();
        return closed;
      };
      greeted({ close });
    });
    closed.catch(failed);
    socket.write(payload.bytesAt(0, size));
  });
}

function hex(byte: number | undefined): string {
  return byte === undefined ? '??' : byte.toString(16).padStart(2, '0');
}
