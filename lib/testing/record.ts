import { createWriteStream, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { asyncScheduler, defer, Observable, tap } from 'rxjs';
import { DEFAULTS } from '../core/defaults';
import { InvalidOption } from '../core/errors';
import { Handler } from '../core/handler';
import { decodeOptions, LogOption, NonEmptyString, strictOptions, wholeNumber } from '../core/options';
import { handlerOutput, Log, logger } from '../transports/hosting';
import { recordDirProblem } from './recordDir';
import { describeError, SESSION_VERSION, UntimedEventLine } from './recording';

export interface RecordOptions {
  /** Bytes a session file may take; past them it says `truncated` and the session goes on unrecorded. Default 64 MiB. */
  maxBytes?: number;
  /** Bytes the session files in `dir` may take together, those found there at the start included. Default 1 GiB. */
  maxTotalBytes?: number;
  /** Session files `dir` may hold, those found there at the start included. Default 10,000. */
  maxFiles?: number;
  /** Where the line saying that recording has stopped goes; false for none. Default: stderr. */
  log?: ((line: string) => void) | false;
}

const RecordOptions = strictOptions({}, { maxBytes: wholeNumber(1024), maxTotalBytes: wholeNumber(1024), maxFiles: wholeNumber(1), log: LogOption });

/**
 * Wraps a handler so that every connection it serves is written to a file in `dir`: each chunk in
 * and out, and how each side ended, with the time since the connection began, one JSON line each
 * (see `recording.ts`). `replay()` and `expectReplay()` read such a file back, so a session seen
 * in production becomes a regression test by copying the file. `rxwire --record DIR` does this.
 * Once `dir` holds `maxFiles` sessions or `maxTotalBytes`, recording stops, with one log line:
 * connections are served on, unrecorded, and no file is ever removed.
 *
 * ```ts
 * serve({ port: 50007 }, record('sessions')(upper));
 * ```
 */
export function record(dir: string, options: RecordOptions = {}): (handler: Handler) => Handler {
  decodeOptions('record: dir', NonEmptyString, dir);
  const opts = decodeOptions('record', RecordOptions, options);
  const maxBytes = opts.maxBytes ?? DEFAULTS.recordMaxBytes;
  const problem = recordDirProblem(dir);
  if (problem !== undefined) throw new InvalidOption(`record: dir: ${problem}`);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new InvalidOption(`record: dir: ${(err as Error).message}`);
  }
  const budget = new DirectoryBudget(dir, opts.maxTotalBytes ?? DEFAULTS.recordMaxTotalBytes, opts.maxFiles ?? DEFAULTS.recordMaxFiles, logger(opts.log));
  return (handler) => (input, conn) =>
    new Observable<Buffer>((subscriber) => {
      if (!budget.newFile()) return defer(() => handlerOutput(handler, input, conn)).subscribe(subscriber);
      const started = asyncScheduler.now();
      const path = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${conn.id}.jsonl`);
      // Opened at once, not on the thread pool: the file is there as soon as its connection is,
      // so a directory read after the server has closed finds every session.
      let fd: number;
      try {
        fd = openSync(path, 'wx');
      } catch {
        return defer(() => handlerOutput(handler, input, conn)).subscribe(subscriber);
      }
      const file = createWriteStream(path, { fd });
      let written = 0;
      let stopped = false;
      // A disk that fails must not fail the connection: the recording stops, the session goes on.
      file.on('error', () => (stopped = true));
      const write = (text: string) => {
        written += text.length;
        budget.wrote(text.length);
        file.write(text);
      };
      const line = (fields: object) => `${JSON.stringify(fields)}\n`;
      write(line({ rxwire: 'session', version: SESSION_VERSION, transport: conn.transport, local: conn.local, remote: conn.remote, started: new Date().toISOString() }));
      const note = (event: UntimedEventLine) => {
        if (stopped) return;
        const t = Math.round(asyncScheduler.now() - started);
        const text = line({ t, ...event });
        // Room is kept for the line that says so.
        if (written + text.length + 64 > maxBytes || !budget.hasRoom(text.length + 64)) {
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
      const subscription = defer(() => handlerOutput(handler, recordedInput, conn))
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

/**
 * The files and bytes a recording directory may still take, counting what it held at the start.
 * Once either runs out, recording stops for good (a line says so): files are never removed,
 * since a directory of sessions may hold the very ones someone is keeping.
 */
class DirectoryBudget {
  private files = 0;
  private bytes = 0;
  private full = false;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly maxFiles: number,
    private readonly log: Log,
  ) {
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.jsonl')) continue;
      this.files++;
      this.bytes += statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0;
    }
  }

  /** Whether one more session file may be made; counts it if so. */
  newFile(): boolean {
    if (this.files >= this.maxFiles) this.stop(`${this.files} session files, the most it may hold`);
    if (!this.hasRoom(0)) return false;
    this.files++;
    return true;
  }

  /** Whether `bytes` more fit; once they don't, recording stops. */
  hasRoom(bytes: number): boolean {
    if (this.bytes + bytes > this.maxBytes) this.stop(`${this.bytes} bytes of sessions, of at most ${this.maxBytes}`);
    return !this.full;
  }

  wrote(bytes: number): void {
    this.bytes += bytes;
  }

  private stop(why: string): void {
    if (this.full) return;
    this.full = true;
    this.log(`record: ${this.dir} holds ${why}: connections are no longer recorded`);
  }
}
