import { AssertionError } from 'node:assert';
import { isDeepStrictEqual } from 'node:util';
import { showError, showValue, toBuffer } from './bytes';
import { Message } from './run';

/** Stands for the error of a `#` given no error value: any error matches it. */
export const ANY_ERROR: unknown = Symbol('any error');

/**
 * Joins the Buffers emitted in one frame into one: a peer reading a stream cannot tell them apart,
 * so `'(ab)'` with `a: 'x', b: 'y'` and `'c'` with `c: 'xy'` are the same timeline.
 */
export function joinFrames(messages: readonly Message[]): Message[] {
  const joined: Message[] = [];
  for (const message of messages) {
    const last = joined[joined.length - 1];
    const value = message.notification.kind === 'N' ? message.notification.value : undefined;
    const lastValue = last?.notification.kind === 'N' ? last.notification.value : undefined;
    if (last && last.frame === message.frame && value instanceof Uint8Array && lastValue instanceof Uint8Array) {
      joined[joined.length - 1] = { frame: last.frame, notification: { kind: 'N', value: Buffer.concat([lastValue, value]) } };
    } else {
      joined.push(value instanceof Uint8Array ? { frame: message.frame, notification: { kind: 'N', value: toBuffer(value) } } : message);
    }
  }
  return joined;
}

/** Whether an actual error is the one expected: the same class name, code and message, or anything for `ANY_ERROR`. */
export function sameError(actual: unknown, expected: unknown): boolean {
  if (expected === ANY_ERROR) return true;
  if (actual instanceof Error && expected instanceof Error) {
    const code = (e: Error) => (e as { code?: unknown }).code;
    return actual.name === expected.name && actual.message === expected.message && code(actual) === code(expected);
  }
  return isDeepStrictEqual(actual, expected);
}

function sameMessage(actual: Message, expected: Message): boolean {
  const a = actual.notification;
  const e = expected.notification;
  if (actual.frame !== expected.frame || a.kind !== e.kind) return false;
  if (a.kind === 'N' && e.kind === 'N') return isDeepStrictEqual(a.value, e.value);
  if (a.kind === 'E' && e.kind === 'E') return sameError(a.error, e.error);
  return true;
}

/** Where two timelines first differ, or -1 if they are the same. */
export function firstDifference(actual: readonly Message[], expected: readonly Message[]): number {
  const length = Math.max(actual.length, expected.length);
  for (let i = 0; i < length; i++) {
    if (!actual[i] || !expected[i] || !sameMessage(actual[i]!, expected[i]!)) return i;
  }
  return -1;
}

function firstDifferingByte(a: unknown, b: unknown): number {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return 0;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i === a.length && i === b.length ? 0 : i;
}

function showMessage({ frame, notification }: Message, focus: number): string {
  const at = `frame ${frame}`.padEnd(12);
  if (notification.kind === 'N') return `${at}next ${showValue(notification.value, focus)}`;
  if (notification.kind === 'E') return `${at}error ${notification.error === ANY_ERROR ? '(any)' : showError(notification.error)}`;
  return `${at}complete`;
}

/** A timeline, one notification a line, the one at `marked` pointed at (or where it is missing). */
export function showTimeline(messages: readonly Message[], marked: number, focus = 0): string {
  const lines = messages.map((message, i) => `${i === marked ? '  ▶ ' : '    '}${showMessage(message, i === marked ? focus : 0)}`);
  if (marked >= messages.length) lines.push('  ▶ (nothing more)');
  if (messages.length === 0 && marked < 0) lines.push('    (nothing)');
  return lines.join('\n');
}

/**
 * Throws an AssertionError showing both timelines, the first difference marked, unless they are
 * the same. `actual` and `expected` on the error are the two timelines as text, so a runner that
 * diffs them (mocha, jest, vitest, node:test) shows a readable diff too.
 */
export function assertSameTimeline(what: string, actual: readonly Message[], expected: readonly Message[]): void {
  const at = firstDifference(actual, expected);
  if (at < 0) return;
  const valueOf = (message: Message | undefined) => (message?.notification.kind === 'N' ? message.notification.value : undefined);
  const focus = firstDifferingByte(valueOf(actual[at]), valueOf(expected[at]));
  const frame = Math.min(actual[at]?.frame ?? Infinity, expected[at]?.frame ?? Infinity);
  const expectedText = showTimeline(expected, at, focus);
  const actualText = showTimeline(actual, at, focus);
  throw new AssertionError({
    message: `${what} differs from what was expected, first at frame ${frame}\nexpected:\n${expectedText}\nactual:\n${actualText}`,
    actual: actualText,
    expected: expectedText,
    operator: 'expectHandler',
  });
}
