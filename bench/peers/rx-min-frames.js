#!/usr/bin/env node
// rx-min-frames.js - the floor of the design for length-prefixed framing, as rx-min-lines.js is for
// lines: plain node:net, each connection an Observable<Buffer> of its reads, through a minimal
// lengthPrefixed() that emits one Buffer view per payload (2-byte big-endian length, carry across
// reads), map(upperInPlace), and one write per read joining each payload behind a new header.
// Backpressure: pause() on a false write(), resume() on 'drain'. A frame cut by the end of input
// drops the connection, as raw-node-frames.js does.
'use strict';
const net = require('net');
// rxjs from the project the bench runs in (the current directory), as the target uses it.
const { Observable, map } = require(require.resolve('rxjs', { paths: [process.cwd()] }));
const i = process.argv.indexOf('--port');
const port = i >= 0 ? Number(process.argv[i + 1]) : 0;
const HEADER = 2;
const UPPER = new Uint8Array(256);
for (let b = 0; b < 256; b++) UPPER[b] = b >= 97 && b <= 122 ? b - 32 : b;
const upperInPlace = (frame) => { for (let k = 0; k < frame.length; k++) frame[k] = UPPER[frame[k]]; return frame; };

const lengthPrefixed = () => (source) => new Observable((sub) => {
  let carry = null; // start of a frame that the next read should finish
  return source.subscribe({
    next(chunk) {
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      carry = null;
      let start = 0;
      while (data.length - start >= HEADER) {
        const end = start + HEADER + data.readUInt16BE(start);
        if (end > data.length) break;
        sub.next(data.subarray(start + HEADER, end));
        start = end;
      }
      if (start < data.length) carry = data.subarray(start);
    },
    error: (e) => sub.error(e),
    complete() { if (carry) sub.error(new Error('frame cut by the end of input')); else sub.complete(); },
  });
});

const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  let answers = []; // one read's headers and payloads, written together once the read is handled
  const flush = () => {
    if (answers.length === 0) return true;
    const out = Buffer.concat(answers);
    answers = [];
    return socket.write(out);
  };
  const input = new Observable((sub) => {
    const onData = (c) => { sub.next(c); if (!flush()) socket.pause(); };
    const onEnd = () => sub.complete();
    const onError = (e) => sub.error(e);
    socket.on('data', onData); socket.on('end', onEnd); socket.on('error', onError);
    return () => { socket.off('data', onData); socket.off('end', onEnd); socket.off('error', onError); };
  });
  socket.on('drain', () => socket.resume());
  input.pipe(lengthPrefixed(), map(upperInPlace)).subscribe({
    next: (payload) => {
      const header = Buffer.allocUnsafe(HEADER);
      header.writeUInt16BE(payload.length);
      answers.push(header, payload);
    },
    error: () => socket.destroy(),
    complete: () => { flush(); socket.end(); },
  });
});
server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
