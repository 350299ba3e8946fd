import * as t from 'io-ts';
import { Handler } from '../core/handler';
import { checked, decodeOptions } from '../core/options';
import { checkHandler } from '../transports/hosting';
import { Bytes, toBuffer } from './bytes';
import { lastFrame, Message, parseMarbles, resetError, runHandler, VirtualPeerOptions } from './run';
import { ANY_ERROR, assertSameTimeline, joinFrames } from './timeline';

export type MarbleValues = Record<string, Bytes>;

export interface HandlerExpectation {
  /**
   * Asserts what the handler writes, and when: a marble diagram of its output, `values` for its
   * letters (text as UTF-8, or Buffers; a letter not given stands for itself as text), and the
   * error a `#` stands for (any error if not given). Chunks written in one frame count as one.
   */
  toBe(marbles: string, values?: MarbleValues, error?: unknown): void;
  /**
   * Asserts when the handler reads each chunk the peer sent (and the end, `|`): what flow control
   * shows as a chunk read later than it was sent, or not at all.
   */
  toRead(marbles: string, values?: MarbleValues): void;
}

const MarbleValues = t.record(t.string, checked('text or bytes (a string, Buffer or Uint8Array)', (u): u is Bytes => typeof u === 'string' || u instanceof Uint8Array));

/** Every letter of a diagram standing for itself as text, then the values given (checked, for `fn`'s error), all as Buffers. */
function bytesFor(fn: string, marbles: string, values: MarbleValues = {}): Record<string, Buffer> {
  decodeOptions(fn, MarbleValues, values);
  const bytes: Record<string, Buffer> = {};
  for (const letter of marbles) bytes[letter] = Buffer.from(letter, 'utf8');
  for (const [letter, value] of Object.entries(values)) bytes[letter] = toBuffer(value);
  return bytes;
}

/**
 * Runs a handler in virtual time over a virtual connection whose peer sends `input` (a marble
 * diagram, RxJS `TestScheduler.run` syntax: a character a frame of 1 ms, `100ms` gaps, `|` the end,
 * `#` a reset, `(ab)` groups) and reads at the pace `options` set. Throws an AssertionError
 * showing both timelines when what it writes is not what `toBe` expects.
 *
 * ```ts
 * expectHandler(pipe(lines(), map(shout), encodeLines()), '-a-b-|', { a: 'hel', b: 'lo\n' })
 *   .toBe('---x-|', { x: 'HELLO!\n' });
 * ```
 */
export function expectHandler(handler: Handler, input: string, values?: MarbleValues, options: VirtualPeerOptions = {}): HandlerExpectation {
  checkHandler('expectHandler', handler);
  decodeOptions('expectHandler', VirtualPeerOptions, options);
  const messages = parseMarbles(input, bytesFor('expectHandler: values', input, values), options.inputError ?? resetError());
  const run = (expected: Message[]) => runHandler(handler, messages, options, Math.max(lastFrame(messages), lastFrame(expected)));
  return {
    toBe(marbles, outputValues, error = ANY_ERROR) {
      const expected = joinFrames(parseMarbles(marbles, bytesFor('toBe: values', marbles, outputValues), error));
      assertSameTimeline('the output', joinFrames(run(expected).output), expected);
    },
    toRead(marbles, readValues) {
      const expected = parseMarbles(marbles, bytesFor('toRead: values', marbles, readValues), ANY_ERROR);
      assertSameTimeline('what was read', run(expected).reads, expected);
    },
  };
}
