import * as t from 'io-ts';
import { defer, MonoTypeOperatorFunction, Observable, ObservableNotification } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { DEFAULTS } from '../core/defaults';
import { forwardsWritesTo } from '../core/flow';
import { ConnectionInfo, Handler, type Transport } from '../core/handler';
import { checked, oneOfStrings, strictOptions, wholeNumber } from '../core/options';
import { createOperatorSubscriber, operate } from '../operators/internal/operate';
import { handlerOutput } from '../transports/hosting';
import { PeerReads, VirtualConnection } from './virtualConnection';

/** One notification at a frame (a virtual millisecond): RxJS's `TestMessage`, for values of any type. */
export interface Message {
  frame: number;
  notification: ObservableNotification<unknown>;
}

export interface VirtualPeerOptions {
  /**
   * When the peer reads the handler's output: `true` at once (the default), `false` never, or a
   * marble diagram of the frames it reads at (`'---r 100ms r'`). Reading is what brings pending
   * output down, so this is what `backpressure()` and `dropWhileBackedUp()` react to.
   */
  peerReads?: PeerReads;
  /** For the letters of a `peerReads` diagram: how many bytes the peer reads then. A letter not here reads everything pending. */
  peerReadSizes?: Record<string, number>;
  /** The connection's output high-water mark, where `backpressure()` holds reads by default. Default 64 KiB, as a socket's. */
  highWaterMark?: number;
  /** What the handler is told about its connection. */
  connection?: Partial<ConnectionInfo>;
  /** The error a `#` in the input diagram fails the connection with. Default a reset, `ECONNRESET`. */
  inputError?: unknown;
  /** How far past the last scripted frame virtual time may run: a handler with a timer that never stops ends there. Default 10 minutes. */
  maxFrames?: number;
}

const TransportName = oneOfStrings<Transport>(['tcp', 'unix', 'tls', 'udp', 'rdm']);

/** `VirtualPeerOptions` checked as every rxwire function checks its options: an unknown key or a bad value is one InvalidOption line. */
export const VirtualPeerOptions = strictOptions(
  {},
  {
    peerReads: checked('true, false or a marble diagram', (u): u is PeerReads => typeof u === 'boolean' || typeof u === 'string'),
    peerReadSizes: t.record(t.string, checked('a whole number ≥ 0, or Infinity (all that waits)', (u): u is number => u === Infinity || (Number.isInteger(u) && (u as number) >= 0))),
    highWaterMark: wholeNumber(1),
    connection: strictOptions({}, { id: wholeNumber(0), transport: TransportName, local: t.string, remote: t.string, tls: t.UnknownRecord }),
    inputError: t.unknown,
    maxFrames: wholeNumber(0),
  },
);

export interface Run {
  /** What the handler emitted, when. */
  output: Message[];
  /** When the pipeline read each chunk the peer sent, and the input's end. */
  reads: Message[];
}

const DEFAULT_RUN_FOR = 10 * 60_000;
// A handler that emits without end in one frame (`interval(0)`) would otherwise never let a test finish.
const MAX_OUTPUT_MESSAGES = 100_000;

export const virtualConnectionInfo: ConnectionInfo = { id: 1, transport: 'tcp', local: 'virtual:server', remote: 'virtual:peer' };

export function resetError(): Error {
  return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
}

/** Frames of a marble diagram, in `TestScheduler.run`'s syntax and scale: a character is one frame, one virtual ms. */
export function parseMarbles(marbles: string, values?: Record<string, unknown>, error?: unknown): Message[] {
  const outside = TestScheduler.frameTimeFactor;
  TestScheduler.frameTimeFactor = 1;
  try {
    return TestScheduler.parseMarbles(marbles, values, error, false, true) as Message[];
  } finally {
    TestScheduler.frameTimeFactor = outside;
  }
}

/**
 * Runs `handler` over a virtual connection in virtual time: the peer sends `input` (each message
 * at its frame), reads output as `options` script, and the result is what came out, when.
 */
export function runHandler(handler: Handler, input: readonly Message[], options: VirtualPeerOptions, lastScriptedFrame: number): Run {
  const output: Message[] = [];
  const reads: Message[] = [];
  const scheduler = new TestScheduler(() => {
    throw new Error('rxwire/testing compares timelines itself');
  });
  let overflowed = false;
  let emitted = 0;
  scheduler.run(() => {
    const record = (notification: ObservableNotification<unknown>) => output.push({ frame: scheduler.now(), notification });
    const sizes = options.peerReadSizes ?? {};
    const peerReads = options.peerReads ?? true;
    const readFrames =
      typeof peerReads === 'string'
        ? parseMarbles(peerReads).flatMap(({ frame, notification }) =>
            notification.kind === 'N' ? [{ frame, bytes: sizes[String(notification.value)] ?? Infinity }] : [],
          )
        : [];
    const connection = new VirtualConnection(
      { ...virtualConnectionInfo, ...options.connection },
      scheduler,
      options.highWaterMark ?? DEFAULTS.highWaterMark,
      { peerReads, readFrames },
      (chunk) =>
        reads.push({
          frame: scheduler.now(),
          notification: chunk === 'end' ? { kind: 'C' } : { kind: 'N', value: chunk },
        }),
      // What the handler writes is recorded as the connection writes it: a read's answer joined, as a socket's.
      (chunk) => record({ kind: 'N', value: chunk }),
    );
    for (const { frame, notification } of input) {
      scheduler.schedule(() => {
        if (notification.kind === 'N') connection.peerSend(notification.value as Buffer);
        else if (notification.kind === 'C') connection.peerEnd();
        else {
          reads.push({ frame, notification });
          connection.peerFail(notification.error as Error);
        }
      }, frame);
    }
    // A handler that throws as it is called fails its connection, as it does under a server.
    const pipeline: Observable<Buffer> = defer(() => handlerOutput(handler, connection.input, connection.info));
    const subscription = connection
      .send(
        pipeline.pipe(
          counted(() => {
            if (++emitted > MAX_OUTPUT_MESSAGES) {
              overflowed = true;
              throw new Error('too many values'); // an error, which stops the handler
            }
          }),
        ),
      )
      .subscribe({ error: (error) => record({ kind: 'E', error }), complete: () => record({ kind: 'C' }) });
    scheduler.maxFrames = lastScriptedFrame + (options.maxFrames ?? DEFAULT_RUN_FOR);
    scheduler.flush();
    // Torn down inside run(), so the operators' timers are cancelled on the virtual clock, not a real one.
    subscription.unsubscribe();
    connection.close();
  });
  if (overflowed) throw new Error(`rxwire/testing: the handler emitted more than ${MAX_OUTPUT_MESSAGES} values; is something emitting in a loop?`);
  return { output, reads };
}

/** Calls `count` for every value and hands it on, joining writes as the connection does (unlike `tap`). */
function counted<T>(count: () => void): MonoTypeOperatorFunction<T> {
  return operate((source, subscriber) => {
    const counting = createOperatorSubscriber(subscriber, (value: T) => {
      count();
      subscriber.next(value);
    });
    source.subscribe(forwardsWritesTo(counting, subscriber));
  });
}

/** The last frame a diagram mentions. */
export function lastFrame(messages: readonly Message[]): number {
  return messages.reduce((last, { frame }) => Math.max(last, frame), 0);
}
