// The contender: the same servers built with rxwire, run as their own process.
import { map, pipe } from 'rxjs';
import { backpressure, Handler, serve } from 'rxwire';
import upperHandler, { upperBytes } from '../../handlers/upper';
import { runServerProcess } from './child';
import { lineOperators } from './lineOperators';
import { Protocol } from './protocol';

function handlerFor(protocol: Protocol): Handler {
  if (protocol === 'upper') return upperHandler;
  const framing = lineOperators();
  if (framing === undefined) throw new Error('lines() not available');
  return pipe(backpressure(), framing.lines(), map(upperBytes), framing.encodeLines());
}

async function listenRxwire(protocol: Protocol): Promise<number> {
  const server = await serve({ host: '127.0.0.1', port: 0, log: false }, handlerFor(protocol));
  return server.port!;
}

runServerProcess(listenRxwire);
