// A JSON calculator composed in code: lines in, JSON checked by an io-ts codec, JSON lines out.
//   npx ts-node examples/json-calc.ts [--port N] ...
//   printf '{"op":"div","a":1,"b":4}\n' | nc localhost 50007      →  {"result":0.25}
import { map, pipe } from 'rxjs';
import { backpressure, encodeJson, encodeLines, json, lines, serverArgsOrExit, serveUntilSignalled } from 'rxwire';
import { answer, CalcRequest } from '../handlers/json-calc';

export const calculator = pipe(
  backpressure(),
  lines({ maxLength: 4096 }), // Buffer chunks → one Buffer per line
  json(CalcRequest), //          each line → Either<DecodeError, CalcRequest>
  map(answer), //                → { result } or { error }, never an exception
  encodeJson(), //               → JSON text
  encodeLines(), //              → with its newline
);

if (require.main === module) {
  const { options } = serverArgsOrExit('json-calc', process.argv.slice(2));
  serveUntilSignalled('json-calc', options, calculator);
}
