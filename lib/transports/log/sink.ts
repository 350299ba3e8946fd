import { InvalidOption } from '../../core/errors';
import { ServerEvent } from '../../core/events';
import { StructuredLogger } from '../../core/options';
import { logToStderr } from './stderr';

// Where a server's log lines go: the `log` option (text, stderr by default, nowhere for `false`),
// or the `logger` option (records with fields, as pino writes them).

/**
 * Where a server's log lines go. A connection's failure line comes with the Error that ended it,
 * for a stack or a report, and every line but a flood's summary with the event it tells; a sink
 * that takes only the line is a Log too.
 */
export type Log = (line: string, error?: Error, event?: ServerEvent) => void;

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
  // The error and the event only when there are some: `log: console.log` would print `undefined`s.
  const escaped: Log = (line, error, event) => passOn(sink, escapeLine(line), error, event);
  return isServerLinesOnly(option) ? serverLinesOnly(escaped) : escaped;
}

/** The server's sink from its options (`fn` names them in an error): `logger` if given, else `log`; not both. */
export function logSink(fn: string, options: { log?: Log | false; logger?: StructuredLogger }): Log | false {
  if (options.logger === undefined) return options.log === false ? false : logger(options.log);
  if (options.log !== undefined) throw new InvalidOption(`${fn}: log and logger cannot be combined: logger takes the events as records, log their text`);
  return structuredLog(options.logger);
}

/**
 * A Log that hands each line to a structured logger, as its message, with the event's fields:
 * `{"level":30,"time":…,"type":"close","id":3,"reason":"idle",…,"msg":"#3 closed …"}` through pino.
 * One record per event: a line that tells none (a flood's summary, the failure said before a
 * close) goes without fields. An event's error goes as `err`, the Error itself when it is one,
 * as pino's serialiser expects (its type, message, stack and code).
 */
export function structuredLog(target: StructuredLogger): Log {
  return (line, _error, event) => {
    line = escapeLine(line);
    if (!event) return target.warn({}, line);
    if (!('error' in event) || event.error === undefined) return target[levelOf(event)](event, line);
    const { error, ...fields } = event;
    target[levelOf(event)]({ ...fields, err: error.cause ?? { type: error.name, message: error.message } }, line);
  };
}

/** How much an event matters to whoever runs the server. */
function levelOf(event: ServerEvent): 'info' | 'warn' | 'error' {
  switch (event.type) {
    case 'handler-error':
    case 'server-error':
    case 'worker-exit':
      return 'error';
    case 'refused':
    case 'protocol-error':
    case 'udp-dropped':
    case 'grace-expired':
      return 'warn';
    default:
      return 'info';
  }
}

function passOn(sink: Log, line: string, error: Error | undefined, event: ServerEvent | undefined): void {
  if (event !== undefined) sink(line, error, event);
  else if (error !== undefined) sink(line, error);
  else sink(line);
}

// Marks a sink that wants the server's own lines only (`-q`): the text log then leaves out the
// per-connection events by type, before rendering them.
const SERVER_LINES_ONLY = Symbol('rxwire.serverLinesOnly');

/** `sink`, marked to be given only the server's own lines, none about single connections (`rxwire -q`). */
export function serverLinesOnly(sink: Log): Log {
  return Object.assign((line: string, error?: Error, event?: ServerEvent) => passOn(sink, line, error, event), { [SERVER_LINES_ONLY]: true });
}

/** Whether `sink` was made by `serverLinesOnly`. */
export function isServerLinesOnly(sink: Log | false | undefined): boolean {
  return typeof sink === 'function' && SERVER_LINES_ONLY in sink;
}

/** `sink` with `tag` before every line (`worker 2: `), keeping what `serverLinesOnly` asked. */
export function tagged(sink: Log, tag: string): Log {
  const withTag: Log = (line, error, event) => passOn(sink, tag + line, error, event);
  return isServerLinesOnly(sink) ? serverLinesOnly(withTag) : withTag;
}
