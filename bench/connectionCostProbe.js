// Preloaded (`node -r`) into a server that bench/connectionCost.ts measures. On SIGUSR2 it runs
// the step the bench wrote to $COST_PROBE_DIR/step (`snapshot NAME`, `alloc-start`, `alloc-stop
// NAME`, `cpu-start`, `cpu-stop NAME`), writes what it measured into that directory, then
// $COST_PROBE_DIR/done. Plain JavaScript, since the server runs compiled, from dist/.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const inspector = require('node:inspector');

const dir = process.env.COST_PROBE_DIR;
if (dir) {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));
  const settle = () => {
    for (let i = 0; i < 4; i++) gc();
  };
  const steps = {
    async snapshot(name) {
      settle();
      const memory = process.memoryUsage();
      v8.writeHeapSnapshot(path.join(dir, `${name}.heapsnapshot`));
      return memory;
    },
    async 'alloc-start'() {
      settle();
      // Objects collected since are sampled too: what was allocated, not what is left.
      await post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
      return {};
    },
    async 'alloc-stop'(name) {
      const { profile } = await post('HeapProfiler.stopSampling');
      fs.writeFileSync(path.join(dir, `${name}.heapprofile`), JSON.stringify(profile));
      return {};
    },
    async 'cpu-start'() {
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 100 });
      await post('Profiler.start');
      return {};
    },
    async 'cpu-stop'(name) {
      const { profile } = await post('Profiler.stop');
      fs.writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
      return {};
    },
  };
  process.on('SIGUSR2', () => {
    const [step, name] = fs.readFileSync(path.join(dir, 'step'), 'utf8').trim().split(' ');
    steps[step](name).then(
      (result) => fs.writeFileSync(path.join(dir, 'done'), JSON.stringify({ step, name, result })),
      (err) => fs.writeFileSync(path.join(dir, 'done'), JSON.stringify({ step, name, error: String(err) })),
    );
  });
}
