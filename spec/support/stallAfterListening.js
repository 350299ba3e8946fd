// Preloaded into a server program by hostile.spec.ts: once it has written its `listening on` line,
// its main thread stalls for a second, as a process preempted right after that write would, so
// that a launcher killed on seeing the line is gone before the program's next lines run.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  const written = write(chunk, ...rest);
  if (String(chunk).startsWith('listening on')) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  return written;
};
