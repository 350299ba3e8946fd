// Started by spec/lib/cli/launcher.spec.ts under a shell under a stand-in for npm: prints what
// it takes for its launcher, then `gone` once the launcher watch says it has exited.
import { launcherNow, watchLauncher } from '../../lib/cli/launcher';

const launcher = launcherNow();
console.log(`launcher ${JSON.stringify(launcher)}`);
watchLauncher(launcher, () => {
  console.log('gone');
  process.exit(0);
});
// The watch's timer is unref'd: this keeps the probe alive until it fires, or for 20 s at most.
setTimeout(() => process.exit(3), 20_000);
