import type * as FastCheck from 'fast-check';
import { AssertionError } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import { Decoder, DecoderFactory } from '../codecs/codec';
import { InvalidOption } from '../core/errors';
import { Handler } from '../core/handler';
import { decodeOptions, strictOptions, wholeNumber } from '../core/options';
import { checkHandler } from '../transports/hosting';
import { Bytes, showBytes, showError, showValue, toBuffer } from './bytes';
import { Message, runHandler } from './run';

export interface EverySplitOptions {
  /** How many random multi-splits to try after every single split. Default 100. */
  randomSplits?: number;
  /** fast-check's seed for the random splits, to repeat a run. Default a new one each run. */
  seed?: number;
}

const EverySplitOptions = strictOptions({}, { randomSplits: wholeNumber(0), seed: wholeNumber(-(2 ** 31), 2 ** 31 - 1) });

// Every offset is one run over the whole input, so the cost grows with the square of the length.
const MAX_INPUT = 64 * 1024;
const MAX_CUTS = 20;

/** How a run over some split of the input came out, in a form two runs can be compared in. */
interface Outcome {
  /** A handler's output bytes joined, or a decoder's frames. */
  output: Buffer | readonly unknown[];
  /** `complete`, `error Name [CODE]`, or `still open` for a handler whose output never ended. */
  end: string;
}

function endOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  return error instanceof Error ? `error ${error.name}${typeof code === 'string' ? ` [${code}]` : ''}` : `error ${showValue(error)}`;
}

/**
 * A copy of `bytes` (a handler that changes its input must not change the next run's), cut at
 * sorted, distinct offsets strictly inside it, so no chunk is empty: a stream socket never reads zero bytes.
 */
function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const copy = Buffer.from(bytes);
  const offsets = [0, ...cuts, bytes.length];
  return offsets.slice(1).map((end, i) => copy.subarray(offsets[i], end));
}

function decodeAll(newDecoder: DecoderFactory<unknown>, chunks: readonly Buffer[]): Outcome {
  const frames: unknown[] = [];
  try {
    const decoder = newDecoder();
    for (const chunk of [...chunks, undefined]) {
      const step = chunk ? decoder.decode(chunk) : decoder.end();
      frames.push(...step.frames);
      if (step.error) return { output: frames, end: endOf(step.error) };
    }
    return { output: frames, end: 'complete' };
  } catch (error) {
    return { output: frames, end: `threw ${showError(error)}` };
  }
}

/** Runs a handler in virtual time with one chunk read per frame, then the end. */
function handleAll(handler: Handler, chunks: readonly Buffer[]): Outcome {
  const input: Message[] = chunks.map((value, frame) => ({ frame, notification: { kind: 'N', value } }));
  input.push({ frame: chunks.length, notification: { kind: 'C' } });
  const { output } = runHandler(handler, input, {}, chunks.length);
  const values = output.flatMap(({ notification }) => (notification.kind === 'N' ? [notification.value] : []));
  const last = output[output.length - 1]?.notification;
  const bytes = values.every((value) => value instanceof Uint8Array) ? Buffer.concat(values as Uint8Array[]) : values;
  return { output: bytes, end: last?.kind === 'C' ? 'complete' : last?.kind === 'E' ? endOf(last.error) : 'still open' };
}

function showOutcome({ output, end }: Outcome): string {
  const shown = Buffer.isBuffer(output) ? showBytes(output, 0) : `[${output.map((frame) => showValue(frame)).join(', ')}]`;
  return `${shown}, then ${end}`;
}

/** A decoder factory takes no arguments and makes an object with `decode` and `end`; anything else is run as a handler. */
function runnerFor(subject: Handler | DecoderFactory<unknown>): (chunks: readonly Buffer[]) => Outcome {
  if (subject.length === 0) {
    const made = (subject as () => unknown)();
    const isDecoder = typeof (made as Decoder<unknown>)?.decode === 'function' && typeof (made as Decoder<unknown>)?.end === 'function';
    if (isDecoder) return (chunks) => decodeAll(subject as DecoderFactory<unknown>, chunks);
  }
  return (chunks) => handleAll(subject as Handler, chunks);
}

/**
 * Asserts that a handler's output bytes, or a decoder's frames, do not depend on how the input is
 * split into reads: the bug behind twisted#6556 and tokio#3555. It feeds `input` whole, then split
 * in two at every offset, then cut at random offsets (fast-check), and throws an AssertionError
 * naming the first split whose outcome differs, with both outcomes. A handler runs in virtual
 * time over a virtual connection, one read a frame; a decoder is given a factory (`linesDecoder()`).
 *
 * ```ts
 * everySplit(linesDecoder(), 'one\ntwo\r\nthree');
 * everySplit(jsonCalc, '{"op":"add","a":1,"b":2}\n', { randomSplits: 200, seed: 7 });
 * ```
 */
export function everySplit(subject: Handler | DecoderFactory<unknown>, input: Bytes, options: EverySplitOptions = {}): void {
  checkHandler('everySplit', subject);
  const opts = decodeOptions('everySplit', EverySplitOptions, options);
  const bytes = toBuffer(input);
  if (bytes.length > MAX_INPUT) throw new InvalidOption(`everySplit: input: expected at most ${MAX_INPUT} bytes, got ${bytes.length}`);
  const run = runnerFor(subject);
  const whole = run(splitAt(bytes, []));
  const differs = (cuts: readonly number[]) => {
    const split = run(splitAt(bytes, cuts));
    return isDeepStrictEqual(split, whole) ? undefined : split;
  };
  const fail = (cuts: readonly number[], split: Outcome, note = '') => {
    const where = `split at ${cuts.length === 1 ? 'offset' : 'offsets'} ${cuts.join(', ')}:`;
    throw new AssertionError({
      message:
        `everySplit: the input ${where.slice(0, -1)} gives another outcome than the input whole${note}\n` +
        `  ${'whole:'.padEnd(where.length)} ${showOutcome(whole)}\n  ${where} ${showOutcome(split)}`,
      actual: showOutcome(split),
      expected: showOutcome(whole),
      operator: 'everySplit',
    });
  };

  for (let offset = 1; offset < bytes.length; offset++) {
    const split = differs([offset]);
    if (split) fail([offset], split);
  }

  if (bytes.length < 3 || opts.randomSplits === 0) return;
  const fc = fastCheck();
  const cuts = fc
    .uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { minLength: 2, maxLength: Math.min(MAX_CUTS, bytes.length - 1) })
    .map((offsets) => offsets.sort((a, b) => a - b));
  const details = fc.check(
    fc.property(cuts, (offsets) => differs(offsets) === undefined),
    { numRuns: opts.randomSplits ?? 100, seed: opts.seed },
  );
  if (details.failed && details.counterexample) {
    const [offsets] = details.counterexample;
    fail(offsets, differs(offsets)!, ` (fast-check seed ${details.seed})`);
  }
}

/**
 * fast-check, an optional peer of rxwire/testing: loaded only for the random splits, so a project
 * that never asks for them (or a production install) needs none.
 */
function fastCheck(): typeof FastCheck {
  try {
    return require('fast-check') as typeof FastCheck;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new Error('everySplit: the random splits need fast-check, an optional peer of rxwire/testing: npm install --save-dev fast-check (or pass { randomSplits: 0 })');
  }
}
