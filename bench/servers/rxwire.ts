// The contender: the same servers built with rxwire as a user writes them, run as their own
// process. It logs each connection's open and close to stderr as `serve` does by default.
import { map, pipe } from 'rxjs';
import { backpressure, encodeLengthPrefixed, encodeLines, Handler, lengthPrefixed, lines, serve } from 'rxwire';
import upperHandler, { upperInPlace } from '../../handlers/upper';
import { runServerProcess } from './child';
import { FRAME_HEADER_BYTES, Protocol } from './protocol';

const framing = { headerBytes: FRAME_HEADER_BYTES } as const;

// Frames are views of the reads the pipeline owns, so each is uppercased where it lies.
const handlers: Record<Protocol, Handler> = {
  upper: upperHandler,
  lines: pipe(backpressure(), lines(), map(upperInPlace), encodeLines()),
  lengthPrefixed: pipe(backpressure(), lengthPrefixed(framing), map(upperInPlace), encodeLengthPrefixed(framing)),
};

async function listenRxwire(protocol: Protocol): Promise<number> {
  const server = await serve({ host: '127.0.0.1', port: 0 }, handlers[protocol]);
  return server.port!;
}

runServerProcess(listenRxwire);
