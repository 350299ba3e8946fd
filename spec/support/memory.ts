import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Memory in use once garbage is collected: the JS heap and ArrayBuffers' bytes. V8 frees
 * ArrayBuffers on a thread of its own after a collection, so the count is read again, a collection
 * each time, until it stops falling (10 at most).
 */
export async function collected(): Promise<number> {
  let bytes = Infinity;
  for (let round = 0; round < 10; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    const now = heapUsed + arrayBuffers;
    if (now >= bytes) return now;
    bytes = now;
  }
  return bytes;
}
