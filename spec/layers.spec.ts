import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { root } from './support/net';

/** Runs the layer check (.dependency-cruiser.cjs) over `dir`'s lib/. */
function checkLayers(dir: string): { status: number | null; output: string } {
  const run = spawnSync(path.join(root, 'node_modules', '.bin', 'depcruise'), ['lib', '--config', path.join(root, '.dependency-cruiser.cjs')], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe('the layers of lib/', () => {
  it('hold in this tree: every folder imports only from the ones below it', () => {
    const { status, output } = checkLayers(root);
    expect(status, output).to.equal(0);
  });

  it('fail the check on an upward import, naming the rule', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rxwire-layers-'));
    try {
      cpSync(path.join(root, 'lib'), path.join(dir, 'lib'), { recursive: true });
      cpSync(path.join(root, 'tsconfig.json'), path.join(dir, 'tsconfig.json'));
      symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
      writeFileSync(path.join(dir, 'lib', 'codecs', 'upward.ts'), "export { formatHost } from '../transports/identity';\n");
      const { status, output } = checkLayers(dir);
      expect(status).to.not.equal(0);
      expect(output).to.include('codecs-imports-only-lower-layers').and.include('lib/codecs/upward.ts');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
