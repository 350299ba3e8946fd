#!/usr/bin/env node
// rx-min-lines.js - the floor of the design for line framing, as rx-min.js is for a connection: plain
// node:net, each connection an Observable<Buffer> of its reads, through a minimal lines() that emits
// one Buffer view per line ('\n', a '\r' before it dropped, 64 KiB limit, carry across reads, a last
// line at EOF), map(upperInPlace), and one write per read joining its answers. Backpressure:
// pause() on a false write(), resume() on 'drain'. What "a Buffer per frame through map(f)" costs.
'use strict';
const net = require('net');
// rxjs from the project the bench runs in (the current directory), as the target uses it.
const { Observable, map } = require(require.resolve('rxjs', { paths: [process.cwd()] }));
const i = process.argv.indexOf('--port');
const port = i >= 0 ? Number(process.argv[i + 1]) : 0;
const MAX = 64 * 1024;
const NEWLINE = Buffer.from('\n');
const UPPER = new Uint8Array(256);
for (let b = 0; b < 256; b++) UPPER[b] = b >= 97 && b <= 122 ? b - 32 : b;
const upperInPlace = (line) => { for (let k = 0; k < line.length; k++) line[k] = UPPER[line[k]]; return line; };
const tooLong = () => new Error('line longer than 64 KiB');

const lines = () => (source) => new Observable((sub) => {
  let carry = null; // start of a line whose '\n' has not arrived
  return source.subscribe({
    next(chunk) {
      const data = carry ? Buffer.concat([carry, chunk]) : chunk;
      carry = null;
      let start = 0, nl;
      while ((nl = data.indexOf(10, start)) >= 0) {
        let end = nl;
        if (end > start && data[end - 1] === 13) end--;
        if (end - start > MAX) return sub.error(tooLong());
        sub.next(data.subarray(start, end));
        start = nl + 1;
      }
      if (data.length - start > MAX) return sub.error(tooLong());
      if (start < data.length) carry = data.subarray(start);
    },
    error: (e) => sub.error(e),
    complete() { if (carry) sub.next(carry); sub.complete(); },
  });
});

const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  let answers = []; // one read's lines and newlines, written together once the read is handled
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
  input.pipe(lines(), map(upperInPlace)).subscribe({
    next: (line) => { answers.push(line, NEWLINE); },
    error: () => socket.destroy(),
    complete: () => { flush(); socket.end(); },
  });
});
server.listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
