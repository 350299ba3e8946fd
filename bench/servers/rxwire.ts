// The contender: the same servers built with rxwire as a user writes them, run as their own
// process. It logs each connection's open and close to stderr as `serve` does by default.
import { map, pipe } from 'rxjs';
import { backpressure, encodeLengthPrefixed, encodeLines, Handler, lengthPrefixed, lines, serve, serveClustered } from 'rxwire';
import upperHandler, { upperInPlace } from '../../handlers/upper';
import { runServerProcess } from './child';
import { FRAME_HEADER_BYTES, Protocol, ServerSetup, SETUP_ENV } from './protocol';

const framing = { headerBytes: FRAME_HEADER_BYTES } as const;

// Frames are views of the reads the pipeline owns, so each is uppercased where it lies.
const handlers: Record<Protocol, Handler> = {
  upper: upperHandler,
  lines: pipe(backpressure(), lines(), map(upperInPlace), encodeLines()),
  lengthPrefixed: pipe(backpressure(), lengthPrefixed(framing), map(upperInPlace), encodeLengthPrefixed(framing)),
};

const setup: ServerSetup = JSON.parse(process.env[SETUP_ENV] ?? '{}');

// With workers, this process is the primary: it answers the bench, its workers serve.
async function listenRxwire(protocol: Protocol): Promise<number> {
  const options = { host: '127.0.0.1', port: 0, ...(setup.proxyHeader === undefined ? {} : { proxyProtocol: true as const }) };
  const server = setup.workers === undefined ? await serve(options, handlers[protocol]) : await serveClustered({ ...options, workers: setup.workers }, handlers[protocol]);
  return server.port!;
}

runServerProcess(listenRxwire);
