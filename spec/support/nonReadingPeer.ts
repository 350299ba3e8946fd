import * as net from 'node:net';
import { collected } from './memory';
import { dial, steady } from './net';

const MiB = 1024 * 1024;

/**
 * A peer that writes `total` bytes as fast as the server takes them and never reads a byte back,
 * keeping at most 1 MiB queued on its own side, so that what this process holds is the server's.
 * Resolves once the server has stopped taking bytes, with what it took and how much more memory
 * (JS heap and ArrayBuffers, after collection) this process held then than before the peer came.
 */
export async function nonReadingPeer(port: number, total: number): Promise<{ written: number; grown: number; socket: net.Socket }> {
  const before = await collected();
  const socket = await dial({ port });
  socket.pause();
  const piece = Buffer.alloc(64 * 1024, 'abcdefgh\n');
  let queued = 0;
  const fill = () => {
    while (queued < total && socket.writableLength < MiB) {
      socket.write(piece);
      queued += piece.length;
    }
  };
  socket.on('drain', fill);
  fill();
  // What has left this side: the server has read it, or the kernel holds it on the way.
  const written = () => socket.bytesWritten - socket.writableLength;
  await steady(written, 1000, 60000, 'the server to stop reading');
  return { written: written(), grown: (await collected()) - before, socket };
}
