import { logToStderr } from './stderr';

// Where a server's text log lines go: the `log` option, stderr by default, nowhere for `false`.

/**
 * Where a server's log lines go. A connection's failure line comes with the Error that ended it,
 * for a stack or a report; a sink that takes only the line is a Log too.
 */
export type Log = (line: string, error?: Error) => void;

// Control characters (C0, DEL, C1) and the Unicode line separators: what could end a log line
// early or drive a terminal, should a peer's bytes reach a message.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

/** `line` with every unsafe character written as an escape (`\x1b`, `\u2028`): one event, one line. */
export function escapeLine(line: string): string {
  return UNSAFE.test(line)
    ? line.replace(UNSAFE_ALL, (c) => {
        const code = c.charCodeAt(0);
        return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\x${code.toString(16).padStart(2, '0')}`;
      })
    : line;
}

/**
 * Where a server's log lines go: the `log` option, stderr (buffered, not blocking) by default,
 * nowhere for `false`. Every line is escaped first, since messages may quote what a peer sent.
 */
export function logger(option: Log | false | undefined): Log {
  if (option === false) return () => {};
  const sink = option ?? logToStderr;
  // The error only when there is one: `log: console.log` would print a trailing `undefined`.
  const escaped: Log = (line, error) => (error === undefined ? sink(escapeLine(line)) : sink(escapeLine(line), error));
  return isServerLinesOnly(option) ? serverLinesOnly(escaped) : escaped;
}

// Marks a sink that wants the server's own lines only (`-q`): the text log then leaves out the
// per-connection events by type, before rendering them.
const SERVER_LINES_ONLY = Symbol('rxwire.serverLinesOnly');

/** `sink`, marked to be given only the server's own lines, none about single connections (`rxwire -q`). */
export function serverLinesOnly(sink: Log): Log {
  return Object.assign((line: string, error?: Error) => (error === undefined ? sink(line) : sink(line, error)), { [SERVER_LINES_ONLY]: true });
}

/** Whether `sink` was made by `serverLinesOnly`. */
export function isServerLinesOnly(sink: Log | false | undefined): boolean {
  return typeof sink === 'function' && SERVER_LINES_ONLY in sink;
}

/** `sink` with `tag` before every line (`worker 2: `), keeping what `serverLinesOnly` asked. */
export function tagged(sink: Log, tag: string): Log {
  const withTag: Log = (line, error) => (error === undefined ? sink(tag + line) : sink(tag + line, error));
  return isServerLinesOnly(sink) ? serverLinesOnly(withTag) : withTag;
}
