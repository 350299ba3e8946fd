import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { catchError, map, of, pipe, throwError } from 'rxjs';
import { backpressure, DecodeError, encodeJson, encodeLines, FrameTooLong, Handler, json, lines } from 'rxwire';

export const CalcRequest = t.type({
  op: t.keyof({ add: null, sub: null, mul: null, div: null }),
  a: t.number,
  b: t.number,
});
export type CalcRequest = t.TypeOf<typeof CalcRequest>;
export type CalcReply = { result: number } | { error: string };

const operations: Record<CalcRequest['op'], (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
};

/** The answer to one request line: the result, or one line saying what was wrong with it. */
export function answer(request: E.Either<DecodeError, CalcRequest>): CalcReply {
  if (E.isLeft(request)) return { error: request.left.message };
  const { op, a, b } = request.right;
  if (op === 'div' && b === 0) return { error: 'division by zero' };
  const result = operations[op](a, b);
  // JSON has no Infinity: 1e308 * 10 would come out as null.
  return Number.isFinite(result) ? { result } : { error: `${op}: the result is not a finite number` };
}

/**
 * JSON lines in (`{"op":"add","a":1,"b":2}`), JSON lines out (`{"result":3}`). A bad request gets
 * `{"error":"…"}` and the connection stays; a line past the limit is answered, then the connection ends.
 */
const jsonCalc: Handler = pipe(
  backpressure(),
  lines({ maxLength: 4096 }),
  json(CalcRequest),
  map(answer),
  catchError((err: unknown) => (err instanceof FrameTooLong ? of<CalcReply>({ error: err.message }) : throwError(() => err))),
  encodeJson(),
  encodeLines(),
);
export default jsonCalc;
