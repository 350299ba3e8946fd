#!/usr/bin/env node
// raw-node-frames.js - a careful hand-written length-prefixed server on plain Node `net`: the bar
// for rxwire's lengthPrefixed({ headerBytes: 2 }) (rxwire's own peer, in the style of
// ../shared/bench/peers/raw-node-lines.js). Each frame behind a 2-byte big-endian length is
// answered behind the same header with its payload uppercased; all the frames one read completes
// go out in one write(). Backpressure: pause() on a false write(), resume() on 'drain'. A frame
// cut by the end of input drops the connection.
'use strict';
const net = require('net');

const i = process.argv.indexOf('--port');
const port = i >= 0 ? Number(process.argv[i + 1]) : 0;
const HEADER = 2;
const UPPER = new Uint8Array(256);
for (let b = 0; b < 256; b++) UPPER[b] = b >= 97 && b <= 122 ? b - 32 : b;

const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  let carry = null; // start of a frame that the next read should finish
  socket.on('data', (chunk) => {
    const data = carry ? Buffer.concat([carry, chunk]) : chunk;
    carry = null;
    const out = Buffer.allocUnsafe(data.length);
    let o = 0, start = 0;
    while (data.length - start >= HEADER) {
      const end = start + HEADER + data.readUInt16BE(start);
      if (end > data.length) break;
      out[o++] = data[start];
      out[o++] = data[start + 1];
      for (let k = start + HEADER; k < end; k++) out[o++] = UPPER[data[k]];
      start = end;
    }
    // A copy, so that a short tail does not pin the whole read.
    if (start < data.length) carry = Buffer.from(data.subarray(start));
    if (o > 0 && !socket.write(out.subarray(0, o))) socket.pause();
  });
  socket.on('drain', () => socket.resume());
  socket.on('end', () => (carry ? socket.destroy() : socket.end()));
  socket.on('error', () => socket.destroy());
});
server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
