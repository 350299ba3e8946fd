import type { Logger } from 'pino';
import { ShutdownEvent } from '../core/events';
import { escapeLine, LineSink, structuredLog } from '../transports/log/sink';
import { logToStderr } from '../transports/log/stderr';
import { shutdownLine } from '../transports/log/textLog';

// How the command writes its log on stderr: text lines, each with an ISO time first (the
// default), or with `--log-format json`, one JSON object per line as pino writes them (`level`,
// `time`, `msg` and the event's fields), through pino itself, so pino-pretty and log shippers read it.

// Bytes of JSON lines waiting for a stderr that does not keep up, past which lines are dropped
// (pino's destination counts them): as the text log's own bound.
const MAX_PENDING_BYTES = 1 << 20;

let json: Logger | undefined;

/**
 * From now on, the command's lines and its servers' events go to stderr as pino's JSON lines.
 * pino is loaded only then: a server that logs text does not pay for it. Returns the sink for the
 * servers' events.
 */
export function logJson(): LineSink {
  const { pino } = require('pino') as typeof import('pino');
  // Asynchronous writes, joined while one is in flight; pino writes what is left when the process exits.
  json = pino({ base: { pid: process.pid } }, pino.destination({ dest: 2, sync: false, maxLength: MAX_PENDING_BYTES }));
  return structuredLog(json);
}

/** A line of the command's own (`handler: …`, `serving with …`): ISO time first, or a JSON record. */
export function stamped(line: string): void {
  if (json) json.info(escapeLine(line));
  else logToStderr(`${new Date().toISOString()} ${line}`);
}

/** The line a failure to serve exits with: as it is, or a JSON record. */
export function failed(line: string): void {
  if (json) json.error(escapeLine(line));
  else logToStderr(line);
}

/** `SIGTERM: closing, 3 connection(s) open`: as it is, not stamped (scripts read it), or a JSON record with the event's fields. */
export function shuttingDown(event: ShutdownEvent): void {
  if (json) json.info({ ...event }, shutdownLine(event));
  else logToStderr(shutdownLine(event));
}
