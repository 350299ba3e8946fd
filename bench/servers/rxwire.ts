// The contender: the same servers built with rxwire, run as their own process.
import { map, pipe } from 'rxjs';
import { backpressure, encodeLines, Handler, lines, serve } from 'rxwire';
import upperHandler, { upperBytes } from '../../handlers/upper';
import { runServerProcess } from './child';
import { Protocol } from './protocol';

function handlerFor(protocol: Protocol): Handler {
  if (protocol === 'upper') return upperHandler;
  return pipe(backpressure(), lines(), map(upperBytes), encodeLines());
}

async function listenRxwire(protocol: Protocol): Promise<number> {
  const server = await serve({ host: '127.0.0.1', port: 0, log: false }, handlerFor(protocol));
  return server.port!;
}

runServerProcess(listenRxwire);
