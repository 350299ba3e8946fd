// A JSON calculator: lines in, JSON checked by an io-ts codec, JSON lines out. The pipeline is
// handlers/json-calc.ts, the same one `npx rxwire --handler json-calc` serves.
//   npx ts-node examples/json-calc.ts [--port N] ...
//   printf '{"op":"div","a":1,"b":4}\n' | nc localhost 50007      →  {"result":0.25}
import { serverArgsOrExit, serveUntilSignalled } from 'rxwire/cli';
import calculator from 'rxwire/handlers/json-calc';

const { options, flags } = serverArgsOrExit('json-calc', process.argv.slice(2));
serveUntilSignalled('json-calc', options, calculator, flags);
