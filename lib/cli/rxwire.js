#!/usr/bin/env node
// The `rxwire` bin: loads the TypeScript command through ts-node, unless already running under it.
const path = require('node:path');
if (!process[Symbol.for('ts-node.register.instance')]) {
  require('ts-node').register({ project: path.join(__dirname, '..', '..', 'tsconfig.json'), transpileOnly: true });
}
require('./rxwire.ts');
