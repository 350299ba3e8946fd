import { InvalidOption } from '../../core/errors';
import { ServerEvent } from '../../core/events';
import { StructuredLogger } from '../../core/options';
import { logToStderr } from './stderr';

// Where a server's log lines go: the `log` option (text, stderr by default, nowhere for `false`),
// or the `logger` option (records with fields, as pino writes them).

/**
 * Where a server's log lines go. A connection's failure line comes with the Error that ended it,
 * for a stack or a report; a sink that takes only the line is a Log too.
 */
export type Log = (line: string, error?: Error) => void;

/** A Log inside rxwire, also given the event each line tells (none for a flood's summary). */
export type LineSink = (line: string, error?: Error, event?: ServerEvent) => void;

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
export function logger(option: Log | false | undefined): LineSink {
  if (option === false) return () => {};
  const sink: LineSink = option ?? logToStderr;
  // A user's function gets the line, and the error only when there is one (`log: console.log`
  // would print `undefined`); the event goes only to sinks of rxwire's own that ask for it.
  const takesEvents = hasMark(option, TAKES_EVENTS);
  return marked(option, (line, error, event) => passOn(sink, escapeLine(line), error, takesEvents ? event : undefined));
}

/** The server's sink from its options (`fn` names them in an error): `logger` if given, else `log`; not both. */
export function logSink(fn: string, options: { log?: Log | false; logger?: StructuredLogger }): LineSink | false {
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
export function structuredLog(target: StructuredLogger): LineSink {
  return mark(TAKES_EVENTS, (line, _error, event) => {
    line = escapeLine(line);
    if (!event) return target.warn({}, line);
    if (!('error' in event) || event.error === undefined) return target[levelOf(event)](event, line);
    const { error, ...fields } = event;
    target[levelOf(event)]({ ...fields, err: error.cause ?? { type: error.name, message: error.message } }, line);
  });
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

function passOn(sink: LineSink, line: string, error: Error | undefined, event: ServerEvent | undefined): void {
  if (event !== undefined) sink(line, error, event);
  else if (error !== undefined) sink(line, error);
  else sink(line);
}

// What a sink may ask of the text log, marked on the function: only the server's own lines
// (`-q`: the per-connection events are left out by type, before rendering), or the event each
// line tells (a structured sink, such as the command's JSON log, given as a `log` function).
const SERVER_LINES_ONLY = Symbol('rxwire.serverLinesOnly');
const TAKES_EVENTS = Symbol('rxwire.takesEvents');
type Mark = typeof SERVER_LINES_ONLY | typeof TAKES_EVENTS;

function mark(what: Mark, sink: LineSink): LineSink {
  return Object.assign(sink, { [what]: true });
}

function hasMark(sink: Log | LineSink | false | undefined, what: Mark): boolean {
  return typeof sink === 'function' && what in sink;
}

/** `outer`, with the marks `inner` has: a wrapper asks what the sink it wraps asked. */
function marked(inner: Log | LineSink | false | undefined, outer: LineSink): LineSink {
  for (const what of [SERVER_LINES_ONLY, TAKES_EVENTS] as const) if (hasMark(inner, what)) mark(what, outer);
  return outer;
}

/** `sink`, marked to be given only the server's own lines, none about single connections (`rxwire -q`). */
export function serverLinesOnly(sink: LineSink): LineSink {
  return mark(SERVER_LINES_ONLY, marked(sink, (line, error, event) => passOn(sink, line, error, event)));
}

/** Whether `sink` was made by `serverLinesOnly`. */
export function isServerLinesOnly(sink: Log | LineSink | false | undefined): boolean {
  return hasMark(sink, SERVER_LINES_ONLY);
}

/** `sink` with `tag` before every line (`worker 2: `), asking what `sink` asked. */
export function tagged(sink: LineSink, tag: string): LineSink {
  return marked(sink, (line, error, event) => passOn(sink, tag + line, error, event));
}
