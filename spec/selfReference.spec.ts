import { expect } from 'chai';
import * as path from 'node:path';
import { root, runCommand } from './support/net';

// Inside the repository `rxwire` is the TypeScript source (tsconfig paths, tsconfig-paths at run
// time), so an edit in lib/ is what examples and specs run, with no build and no stale dist/.
describe("the package's own name inside the repository", function () {
  this.timeout(30000);

  it('resolves rxwire, rxwire/cli and rxwire/handlers/* to the source, and rxwire/package.json to the root', () => {
    expect(require.resolve('rxwire')).to.equal(path.join(root, 'lib', 'index.ts'));
    expect(require.resolve('rxwire/cli')).to.equal(path.join(root, 'lib', 'cli', 'index.ts'));
    expect(require.resolve('rxwire/handlers/upper')).to.equal(path.join(root, 'handlers', 'upper.ts'));
    expect(require.resolve('rxwire/package.json')).to.equal(path.join(root, 'package.json'));
  });

  it('resolves the same for `npx ts-node`, with no flags', async () => {
    const program = runCommand('npx', ['ts-node', '-e', "console.log(require('node:module').createRequire(process.cwd() + '/x.js').resolve('rxwire'))"]);
    expect(await program.exit).to.equal(0);
    expect(program.stdout).to.deep.equal([path.join(root, 'lib', 'index.ts')]);
  });
});
