import { mkdirSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { asyncScheduler, defer, Observable, tap } from 'rxjs';
import { Handler } from '../core/handler';
import { decodeOptions, NonEmptyString, strictOptions, wholeNumber } from '../core/options';
import { describeError, SESSION_VERSION, UntimedEventLine } from './recording';

export interface RecordOptions {
  /** Bytes a session file may take; past them it says `truncated` and the session goes on unrecorded. Default 64 MiB. */
  maxBytes?: number;
}

const RecordOptions = strictOptions({}, { maxBytes: wholeNumber(1024) });
const MAX_BYTES = 64 * 1024 * 1024;

/**
 * Wraps a handler so that every connection it serves is written to a file in `dir`: each chunk in
 * and out, and how each side ended, with the time since the connection began, one JSON line each
 * (see `recording.ts`). `replay()` and `expectReplay()` read such a file back, so a session seen
 * in production becomes a regression test by copying the file. `rxwire --record DIR` does this.
 *
 * ```ts
 * serve({ port: 50007 }, record('sessions')(upper));
 * ```
 */
export function record(dir: string, options: RecordOptions = {}): (handler: Handler) => Handler {
  decodeOptions('record: dir', NonEmptyString, dir);
  const maxBytes = decodeOptions('record', RecordOptions, options).maxBytes ?? MAX_BYTES;
  mkdirSync(dir, { recursive: true });
  return (handler) => (input, conn) =>
    new Observable<Buffer>((subscriber) => {
      const started = asyncScheduler.now();
      const file = createWriteStream(join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${conn.id}.jsonl`), { flags: 'wx' });
      let written = 0;
      let stopped = false;
      // A disk that fails must not fail the connection: the recording stops, the session goes on.
      file.on('error', () => (stopped = true));
      const write = (text: string) => {
        written += text.length;
        file.write(text);
      };
      const line = (fields: object) => `${JSON.stringify(fields)}\n`;
      write(line({ rxwire: 'session', version: SESSION_VERSION, transport: conn.transport, local: conn.local, remote: conn.remote, started: new Date().toISOString() }));
      const note = (event: UntimedEventLine) => {
        if (stopped) return;
        const t = Math.round(asyncScheduler.now() - started);
        const text = line({ t, ...event });
        // Room is kept for the line that says so.
        if (written + text.length + 64 > maxBytes) {
          stopped = true;
          return write(line({ t, event: 'truncated' }));
        }
        write(text);
      };
      const recordedInput = input.pipe(
        tap({
          next: (chunk) => note({ event: 'in', data: chunk.toString('base64') }),
          complete: () => note({ event: 'in-end' }),
          error: (error) => note({ event: 'in-error', error: describeError(error) }),
        }),
      );
      const subscription = defer(() => handler(recordedInput, conn))
        .pipe(
          tap({
            next: (chunk) => note({ event: 'out', data: Buffer.from(chunk).toString('base64') }),
            complete: () => note({ event: 'out-end' }),
            error: (error) => note({ event: 'out-error', error: describeError(error) }),
          }),
        )
        .subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        file.end();
      };
    });
}
