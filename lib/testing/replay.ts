import { AssertionError } from 'node:assert';
import { asyncScheduler, Observable, Subscription } from 'rxjs';
import { ConnectionInfo, Handler } from '../core/handler';
import { decodeOptions } from '../core/options';
import { checkHandler } from '../transports/hosting';
import { showBytes } from './bytes';
import { describeError, readSession, RecordedError, RecordedEvent, recreateError } from './recording';
import { Message, runHandler, VirtualPeerOptions } from './run';

export interface Replay {
  /** The connection as it was recorded: transport and addresses. */
  connection: ConnectionInfo;
  /** What the peer sent, as a cold Observable with the recorded timing (on `asyncScheduler`, so virtual in `TestScheduler.run`). */
  input: Observable<Buffer>;
  /** What the handler answered, the same way. */
  output: Observable<Buffer>;
  /** Every line of the file after its header. */
  events: RecordedEvent[];
}

type Side = 'in' | 'out';

/** One side of a session as a cold Observable: each chunk, and its end, at the time recorded. */
function timed(events: readonly RecordedEvent[], side: Side): Observable<Buffer> {
  return new Observable<Buffer>((subscriber) => {
    const scheduled = new Subscription();
    for (const event of events) {
      const at = () => {
        if (event.event === side) subscriber.next(event.data);
        else if (event.event === `${side}-end`) subscriber.complete();
        else if (event.event === `${side}-error` && 'error' in event) subscriber.error(recreateError(event.error));
      };
      if (event.event.startsWith(side)) scheduled.add(asyncScheduler.schedule(at, event.t));
    }
    return scheduled;
  });
}

/**
 * Reads a session that `record()` (or `rxwire --record DIR`) wrote: the peer's input and the
 * handler's output as cold Observables with the recorded timing. Throws `InvalidRecording` naming
 * the line of a file it cannot read.
 */
export function replay(path: string): Replay {
  const { connection, events } = readSession(path);
  return { connection, events, input: timed(events, 'in'), output: timed(events, 'out') };
}

/** The bytes one side sent, joined, and how it ended. */
interface SideOutcome {
  bytes: Buffer;
  end: string;
}

function showEnd(error: RecordedError | undefined, ended: boolean): string {
  if (error) return `error ${error.name}${error.code ? ` [${error.code}]` : ''}`;
  return ended ? 'complete' : 'still open';
}

function recordedOutput(events: readonly RecordedEvent[]): SideOutcome {
  const chunks: Buffer[] = [];
  let end = showEnd(undefined, false);
  for (const event of events) {
    if (event.event === 'out') chunks.push(event.data);
    else if (event.event === 'out-end') end = showEnd(undefined, true);
    else if (event.event === 'out-error' && 'error' in event) end = showEnd(event.error, true);
  }
  return { bytes: Buffer.concat(chunks), end };
}

function actualOutput(output: readonly Message[]): SideOutcome {
  const chunks: Buffer[] = [];
  let end = 'still open';
  for (const { notification } of output) {
    if (notification.kind === 'N') chunks.push(Buffer.from(notification.value as Uint8Array));
    else if (notification.kind === 'C') end = 'complete';
    else end = showEnd(describeError(notification.error), true);
  }
  return { bytes: Buffer.concat(chunks), end };
}

/**
 * Asserts that `handler` still answers a recorded session as it did: it is run in virtual time
 * over a virtual connection whose peer sends the recorded input at the recorded times, and what it
 * writes, joined, must be the recorded output, ending the same way (complete, or an error of the
 * same name and code). How the output was cut into writes, and its timing, are not compared.
 *
 * ```ts
 * it('answers the session of issue #42 as it did', () => expectReplay(handler, 'spec/sessions/42.jsonl'));
 * ```
 */
export function expectReplay(handler: Handler, path: string, options: VirtualPeerOptions = {}): void {
  checkHandler('expectReplay', handler);
  decodeOptions('expectReplay', VirtualPeerOptions, options);
  const { connection, events } = readSession(path);
  const input: Message[] = [];
  for (const event of events) {
    if (event.event === 'in') input.push({ frame: event.t, notification: { kind: 'N', value: event.data } });
    else if (event.event === 'in-end') input.push({ frame: event.t, notification: { kind: 'C' } });
    else if (event.event === 'in-error' && 'error' in event) input.push({ frame: event.t, notification: { kind: 'E', error: recreateError(event.error) } });
  }
  const lastFrame = events.reduce((last, { t }) => Math.max(last, t), 0);
  const run = runHandler(handler, input, { ...options, connection: { ...connection, ...options.connection } }, lastFrame);
  const expected = recordedOutput(events);
  const actual = actualOutput(run.output);
  if (actual.bytes.equals(expected.bytes) && actual.end === expected.end) return;
  let focus = 0;
  while (focus < actual.bytes.length && actual.bytes[focus] === expected.bytes[focus]) focus++;
  const show = ({ bytes, end }: SideOutcome) => `${showBytes(bytes, focus)}, then ${end}`;
  const where = actual.bytes.equals(expected.bytes) ? 'in how it ends' : `from byte ${focus}`;
  throw new AssertionError({
    message: `expectReplay: the handler answers ${path} differently than recorded, ${where}\n  recorded: ${show(expected)}\n  now:      ${show(actual)}`,
    actual: show(actual),
    expected: show(expected),
    operator: 'expectReplay',
  });
}
