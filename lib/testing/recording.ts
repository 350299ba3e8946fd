import * as t from 'io-ts';
import { readFileSync } from 'node:fs';
import { RxwireError } from '../core/errors';
import { ConnectionInfo } from '../core/handler';
import { formatErrors } from '../core/options';

// The format `record()` writes and `replay()` reads: one JSON object a line. The first says whose
// session it is; each further one is a moment of it, `t` ms after it began, bytes in base64:
//   {"rxwire":"session","version":1,"transport":"tcp","local":"127.0.0.1:50007","remote":"127.0.0.1:40112","started":"…"}
//   {"t":3,"event":"in","data":"aGVsbG8K"}
//   {"t":3,"event":"out","data":"SEVMTE8K"}
//   {"t":9,"event":"in-end"}
//   {"t":9,"event":"out-end"}
// An error is `{"t":…,"event":"in-error"|"out-error","error":{"name":…,"code":…,"message":…}}`;
// `{"t":…,"event":"truncated"}` says the file reached its size limit and nothing more was written.

export const SESSION_VERSION = 1;

const Transport = t.keyof({ tcp: null, unix: null, tls: null, udp: null });
const SessionHeader = t.type({ rxwire: t.literal('session'), version: t.literal(SESSION_VERSION), transport: Transport, local: t.string, remote: t.string, started: t.string });

const RecordedError = t.intersection([t.type({ name: t.string, message: t.string }), t.partial({ code: t.string })]);
export type RecordedError = t.TypeOf<typeof RecordedError>;

const Base64 = new t.Type<Buffer, string, unknown>(
  'base64 bytes',
  Buffer.isBuffer as (u: unknown) => u is Buffer,
  (u, c) => (typeof u === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(u) && u.length % 4 === 0 ? t.success(Buffer.from(u, 'base64')) : t.failure(u, c, 'expected base64 bytes')),
  (bytes) => bytes.toString('base64'),
);

const Time = t.refinement(t.number, (n) => Number.isFinite(n) && n >= 0, 'a time in ms ≥ 0');

export const RecordedEvent = t.union([
  t.type({ t: Time, event: t.keyof({ in: null, out: null }), data: Base64 }),
  t.type({ t: Time, event: t.keyof({ 'in-end': null, 'out-end': null, truncated: null }) }),
  t.type({ t: Time, event: t.keyof({ 'in-error': null, 'out-error': null }), error: RecordedError }),
]);
export type RecordedEvent = t.TypeOf<typeof RecordedEvent>;
type Untimed<E> = E extends unknown ? Omit<E, 't'> : never;
/** A line of the file as `record()` writes it, less its time. */
export type UntimedEventLine = Untimed<t.OutputOf<typeof RecordedEvent>>;

export interface Session {
  connection: ConnectionInfo;
  events: RecordedEvent[];
}

/** A session file `replay()` cannot read: the message names the file, the line and what is wrong. */
export class InvalidRecording extends RxwireError {
  readonly code = 'ERR_INVALID_RECORDING';
}

export function describeError(error: unknown): RecordedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}

/** An error as the recording describes it: the same name, code and message. */
export function recreateError({ name, code, message }: RecordedError): Error {
  const error = Object.assign(new Error(message), code === undefined ? {} : { code });
  Object.defineProperty(error, 'name', { value: name });
  return error;
}

export function readSession(path: string): Session {
  const lines = readFileSync(path, 'utf8').split('\n');
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop();
  const parse = <A>(index: number, codec: t.Decoder<unknown, A>): A => {
    let value: unknown;
    try {
      value = JSON.parse(lines[index]!);
    } catch {
      throw new InvalidRecording(`${path}:${index + 1}: not JSON`);
    }
    const decoded = codec.decode(value);
    if (decoded._tag === 'Left') throw new InvalidRecording(`${path}:${index + 1}: ${formatErrors(decoded.left)}`);
    return decoded.right;
  };
  if (lines.length === 0) throw new InvalidRecording(`${path}: empty, expected a session header line`);
  const header = parse(0, SessionHeader);
  const events = lines.slice(1).map((_, i) => parse(i + 1, RecordedEvent));
  return { connection: { id: 1, transport: header.transport, local: header.local, remote: header.remote }, events };
}
