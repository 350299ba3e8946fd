#!/usr/bin/env node
// The rxwire command: serve any handler module with the server's flags.
//   npx rxwire [--handler NAME|PATH] [--record DIR] [--port N] [--host H | --unix PATH] [...]
import * as E from 'fp-ts/Either';
import { option } from './flags';
import { builtInHandlers, loadHandler } from './handlerModule';
import { exitWith, serverArgsOrExit, serveUntilSignalled } from './program';
import { NonEmptyString } from '../core/options';
import { record } from '../testing/record';

const { options, flags } = serverArgsOrExit('rxwire', process.argv.slice(2), {
  handler: option(NonEmptyString, 'NAME|PATH', `a built-in handler (${builtInHandlers().join(', ')}) or a module whose default export is a handler (default: upper)`),
  record: option(NonEmptyString, 'DIR', 'write each connection to a file in DIR (every chunk in and out, timed), for replay() and expectReplay() in tests'),
});
const handler = loadHandler(flags.handler ?? 'upper');
if (E.isLeft(handler)) exitWith(2, `rxwire: ${handler.left}`);
else serveUntilSignalled('rxwire', options, flags.record === undefined ? handler.right : record(flags.record)(handler.right));
