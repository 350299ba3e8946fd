import { Dialer } from './load/dialer';
import { machineUserSeconds, processUserSeconds } from './machine';
import { Measurement, Scenario } from './scenarios';
import { ServerProcess, StartOptions } from './serverProcess';
import { Implementation } from './servers/protocol';

export interface Run {
  readonly implementation: Implementation;
  readonly round: number;
  readonly measurement?: Measurement;
  readonly error?: string;
  /** Share of a core that processes other than the server and the bench spent in user mode meanwhile: noise. */
  readonly othersCpu?: number;
}

/**
 * Runs `scenario` `rounds` times against each implementation, alternating (rxwire, baseline,
 * asyncio, rxwire, …), each run against a fresh server process; stops after the first failed run.
 */
export async function runRounds(
  scenario: Scenario,
  rounds: number,
  implementations: readonly Implementation[],
  options: StartOptions,
  onRun: (run: Run) => void,
): Promise<Run[]> {
  const runs: Run[] = [];
  // A comparison of two rxwire setups has just its two columns.
  const sides = scenario.setups ? implementations.filter((implementation) => implementation in scenario.setups!) : implementations;
  for (let round = 1; round <= rounds; round++) {
    for (const implementation of sides) {
      const run = await runOnce(scenario, implementation, options).then(
        ({ measurement, othersCpu }): Run => ({ implementation, round, measurement, othersCpu }),
        (err: Error): Run => ({ implementation, round, error: err.message }),
      );
      runs.push(run);
      onRun(run);
      if (run.error !== undefined) return runs;
    }
  }
  return runs;
}

async function runOnce(scenario: Scenario, implementation: Implementation, options: StartOptions): Promise<{ measurement: Measurement; othersCpu: number }> {
  const setup = implementation === 'asyncio' ? undefined : scenario.setups?.[implementation];
  const server = await ServerProcess.start(setup ? 'rxwire' : implementation, scenario.protocol, { ...options, setup });
  const dialer = new Dialer(server.port, setup?.proxyHeader);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${scenario.timeoutMs / 1000} s`)), scenario.timeoutMs);
  });
  try {
    const othersBefore = othersUserSeconds(server.pid);
    const start = performance.now();
    const measurement = await Promise.race([scenario.run({ server, dialer }), deadline, server.crashed]);
    // Clamped: /proc/stat and the processes' counters tick apart, which can leave a hair below zero.
    const othersCpu = Math.max(0, (othersUserSeconds(server.pid) - othersBefore) / ((performance.now() - start) / 1000));
    return { measurement, othersCpu };
  } finally {
    clearTimeout(timer);
    dialer.destroyAll();
    await server.stop();
  }
}

/** User-mode CPU seconds spent by every process but the server and this one. */
function othersUserSeconds(serverPid: number): number {
  return machineUserSeconds() - processUserSeconds(serverPid) - processUserSeconds(process.pid);
}
