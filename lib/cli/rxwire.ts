#!/usr/bin/env node
// The rxwire command: serve any handler module with the server's flags.
//   npx rxwire [--handler NAME|PATH] [--record DIR] [--port N] [--host H | --unix PATH] [...]
import * as E from 'fp-ts/Either';
import { NonEmptyString } from '../core/options';
import { record } from '../testing/record';
import { DEFAULTS } from '../core/defaults';
import { Handler } from '../core/handler';
import { option, toggle } from './flags';
import { recordDir, wholeNumberFromString } from './flagValues';
import { builtInHandlers, loadHandler } from './handlerModule';
import { stamped } from './logFormat';
import { exitWith, serverArgsOrExit, serveUntilSignalled } from './program';

const { options, flags } = serverArgsOrExit(
  'rxwire',
  process.argv.slice(2),
  {
    handler: option(NonEmptyString, 'NAME|PATH', `a built-in handler (${builtInHandlers().join(', ')}) or a module whose default export is a handler (default: upper)`),
    record: option(recordDir, 'DIR', 'write each connection to a file in DIR (every chunk in and out, timed), for replay() and expectReplay() in tests'),
    'record-max-total-bytes': option(
      wholeNumberFromString(1024),
      'N',
      `with --record, stop recording once DIR's session files take N bytes together (default ${DEFAULTS.recordMaxTotalBytes}; each file at most ${DEFAULTS.recordMaxBytes})`,
    ),
    'record-max-files': option(wholeNumberFromString(1), 'N', `with --record, stop recording once DIR holds N session files (default ${DEFAULTS.recordMaxFiles})`),
    version: toggle("print rxwire's version and exit"),
  },
  {
    about: 'Serves a handler — an RxJS pipeline from the bytes a peer sends to the bytes sent back — over TCP, a Unix socket, TLS, UDP or reliable datagrams.',
    examples: [
      'rxwire                                   uppercase echo on port 50007, every interface',
      'rxwire --handler echo --port=9000 -q     the echo handler, no line per connection',
      'rxwire --handler ./shout.ts --port 0     your module (.ts, .mts, .cts, .js, .mjs, .cjs) on any free port',
      'rxwire --workers auto --port 9000        one worker process per core, sharing port 9000',
      'rxwire --udp --idle-ms 10000             UDP: each peer a session, expired after 10 s of silence',
      'rxwire --workers 4 --metrics 9464        Prometheus metrics at :9464/metrics, summed over the workers',
      'rxwire --tls-cert cert.pem --tls-key key.pem',
    ],
    exitCodes: [
      '0  stopped by SIGINT or SIGTERM, or after --help or --version',
      '1  cannot listen (address in use, no permission)',
      '2  a bad flag, or a handler module that cannot load (FILE:LINE:COL for a syntax error)',
    ],
  },
);

if (flags.record === undefined) {
  if (flags['record-max-total-bytes'] !== undefined) exitWith(2, 'rxwire: --record-max-total-bytes: needs --record too');
  if (flags['record-max-files'] !== undefined) exitWith(2, 'rxwire: --record-max-files: needs --record too');
}

/** The handler, recorded into --record DIR if asked; exits 2 when DIR cannot be made. */
function recorded(handler: Handler): Handler {
  if (flags.record === undefined) return handler;
  try {
    return record(flags.record, { maxTotalBytes: flags['record-max-total-bytes'], maxFiles: flags['record-max-files'], log: stamped })(handler);
  } catch (err) {
    return exitWith(2, `rxwire: --record: ${(err as Error).message.replace(/^record: dir: /, '')}`);
  }
}

const name = flags.handler ?? 'upper';
loadHandler(name).then((handler) => {
  if (E.isLeft(handler)) return exitWith(2, `rxwire: ${handler.left}`);
  // A handler whose state lives in one process (its `singleProcess` says why) would split it across workers.
  const singleProcess = (handler.right as { singleProcess?: unknown }).singleProcess;
  if (flags.workers !== undefined && typeof singleProcess === 'string') {
    return exitWith(2, `rxwire: --workers: cannot serve ${name} from several processes: ${singleProcess}`);
  }
  if (flags.verbose) stamped(`handler: ${name}`);
  return serveUntilSignalled('rxwire', options, recorded(handler.right), { verbose: flags.verbose, metrics: flags.metrics });
});
