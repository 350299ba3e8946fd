// Preloaded into a spawned command after transpile.js: counts the events its servers build, by
// type, and writes them as one line (`events {"shutdown":1}`) to stdout when the process exits.
'use strict';
const fs = require('node:fs');
const { EventStream } = require('../../lib/transports/serverEvents');

const built = {};
const emit = EventStream.prototype.emit;
EventStream.prototype.emit = function (event) {
  built[event.type] = (built[event.type] ?? 0) + 1;
  return emit.call(this, event);
};
process.on('exit', () => fs.writeSync(1, `events ${JSON.stringify(built)}\n`));
