import { Socket } from 'node:net';

/**
 * After our side has ended and nobody reads: the peer gets `ms` at a time to take what we sent
 * and close. A peer that makes no progress in one of them (never reads, never closes, keeps
 * sending) has its socket destroyed then. The timer goes with the socket's close.
 */
export function lingerDeadline(socket: Socket, ms: number): void {
  let flushed = socket.bytesWritten - socket.writableLength;
  const timer = setTimeout(() => {
    const now = socket.bytesWritten - socket.writableLength;
    if (socket.writableLength > 0 && now > flushed) {
      flushed = now;
      timer.refresh();
    } else {
      socket.destroy();
    }
  }, ms);
  socket.once('close', () => clearTimeout(timer));
}
