#!/usr/bin/env node
// rx-min-quiet.js - rx-min.js without its log: the floor of the design for `rxwire -q`, as rx-min.js
// is for rxwire's default. Plain node:net, each connection an Observable<Buffer> of its reads
// through pipe(map(upper)) subscribed to socket.write, pause/resume backpressure, half-close; no
// line per connection, so no peer address read either.
'use strict';
const net = require('net');
// rxjs from the project the bench runs in (the current directory), as the target uses it.
const { Observable, map } = require(require.resolve('rxjs', { paths: [process.cwd()] }));
const i = process.argv.indexOf('--port');
const port = i >= 0 ? Number(process.argv[i + 1]) : 0;
const UPPER = new Uint8Array(256);
for (let b = 0; b < 256; b++) UPPER[b] = b >= 97 && b <= 122 ? b - 32 : b;
const upper = map((chunk) => { const out = Buffer.allocUnsafe(chunk.length); for (let k = 0; k < chunk.length; k++) out[k] = UPPER[chunk[k]]; return out; });
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  const input = new Observable((sub) => {
    const onData = (c) => sub.next(c);
    const onEnd = () => sub.complete();
    const onError = (e) => sub.error(e);
    socket.on('data', onData); socket.on('end', onEnd); socket.on('error', onError);
    return () => { socket.off('data', onData); socket.off('end', onEnd); socket.off('error', onError); };
  });
  socket.on('drain', () => socket.resume());
  input.pipe(upper).subscribe({
    next: (out) => { if (!socket.write(out)) socket.pause(); },
    error: () => socket.destroy(),
    complete: () => socket.end(),
  });
});
server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
