// npm run bench: measures check, put, failure detection, scale, the release lifecycle (prune, rollback, a StatefulSet +
// Job release, sweep), memory and size against the local test cluster, each beside its baseline from the same run
// (issue 7), and writes bench/RESULTS.md (+ bench/results.json, the raw figures).
//
//   npm run cluster:up && npm run bench
//
// Environment: BENCH_ROUNDS (check cold-start rounds, default 15), BENCH_PUT_REPS (default 5), BENCH_FAIL_REPS
// (default 3), BENCH_SCALE (default "10,25,50"), BENCH_CONCURRENCY (default 4), BENCH_BUDGET_S (default 540: scale
// steps that would start after it are skipped and say so), BENCH_LIFECYCLE_REPS (prune and workloads reps, default
// 2), BENCH_SWEEP_N (namespaces swept, default 20), BENCH_ONLY (a comma list of sections: see the end of this file).
//
// Every measured process authenticates as its own user (CN=kdr-bench-PHASE, signed by the test cluster's CA), so the
// audit log attributes each request to exactly one measured step even while other tests use the cluster.
//
// Each section lives in bench/lib/run-*.ts (run-context.ts holds the settings and the run's shared state).
import os, { tmpdir } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBenchEvents } from './lib/audit.js';
import { putChart } from './lib/chart.js';
import { kubectlClientVersion, loadAverage, measuredCommit, serverVersion } from './lib/machine.js';
import { peakRssMethod, sleep } from './lib/proc.js';
import { lifecycleSections, writeReport } from './lib/report.js';
import type { BenchResults, Machine } from './lib/results.js';
import { isFullRun } from './lib/results.js';
import { benchCheck } from './lib/run-check.js';
import { PUT_REPS, startRun } from './lib/run-context.js';
import { benchFailKubectl, benchFailOurs, benchRecovery } from './lib/run-failure.js';
import { benchPrune } from './lib/run-prune.js';
import { benchPut } from './lib/run-put.js';
import { benchRollback } from './lib/run-rollback.js';
import { benchScale } from './lib/run-scale.js';
import { sizes } from './lib/run-sizes.js';
import { benchSweep } from './lib/run-sweep.js';
import { benchWorkloads } from './lib/run-workloads.js';

const bench = startRun();
const { started: benchStarted, runId, results, offset, monitor, say, assets, cleanup } = bench;

function machine(): Machine {
  const cpus = os.cpus();
  return {
    nproc: os.availableParallelism(),
    cpu: cpus[0]?.model ?? '?',
    memGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    kubectl: kubectlClientVersion(),
    server: serverVersion(),
    kernel: `${os.type()} ${os.release()}`,
    git: measuredCommit(),
    loadStart: loadAverage(),
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// BENCH_ONLY=prune,rollback,workloads,sweep (any of put, check, fail, scale too) runs those sections alone, for
// iterating: it prints their part of the report and writes no RESULTS.md (that comes from a full run only).
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((x) => x.trim())) : undefined;
const want = (section: string) => !ONLY || ONLY.has(section);
try {
  const machineInfo = machine();
  results.machine = machineInfo;
  say(`run ${runId} on ${machineInfo.nproc} cores, node ${machineInfo.node}, load ${machineInfo.loadStart}`);
  // the put runs always (check and the lifecycle sections use its release and its manifests.yml); alone: one rep
  const put = await benchPut(bench, want('put') ? PUT_REPS : 1);
  results.put = put;
  if (want('check')) {
    say('put done; check cold start');
    results.check = await benchCheck(bench, put.checkNamespace);
    say(`check: median ${results.check.stats.check?.median.toFixed(0)} ms; failure detection`);
  }
  if (want('fail')) {
    results.failOurs = await benchFailOurs(bench);
    results.recovery = await benchRecovery(bench);
    // kubectl's failure run waits ~30 s for the progress deadline; it runs alone (overlapping the scale runs, the
    // controller-manager's progress check came late)
    results.failKubectl = await benchFailKubectl(bench);
    say(`kubectl failure: exit ${results.failKubectl.code} after ${Math.round(results.failKubectl.ms)} ms`);
  }
  if (want('scale')) results.scale = await benchScale(bench);
  // after scale: scale's budget counts from the start of the run
  if (want('prune')) results.prune = await benchPrune(bench);
  if (want('rollback')) results.rollback = await benchRollback(bench);
  if (want('workloads')) results.workloads = await benchWorkloads(bench, put.manifests);
  if (want('sweep')) results.sweep = await benchSweep(bench, put.manifests);
  results.sizes = sizes(assets);
  machineInfo.loadEnd = loadAverage();
  results.benchMs = performance.now() - benchStarted;
  monitor.stop();
  results.disruptions = monitor.gaps.map(([a, b]) => [(a - benchStarted) / 1000, (b - benchStarted) / 1000]);
  // the audit log lags the responses a little
  await sleep(1500);
  results.audit = Object.fromEntries(
    [...readBenchEvents(offset)].map(([user, events]) => [
      user,
      events.map((e) => ({
        verb: e.verb,
        requestURI: e.requestURI,
        objectRef: e.objectRef,
        userAgent: e.userAgent,
        code: e.responseStatus?.code,
        requestReceivedTimestamp: e.requestReceivedTimestamp,
        stageTimestamp: e.stageTimestamp,
      })),
    ]),
  );
  await cleanup();
  results.totalMs = performance.now() - benchStarted;
  const complete = results as BenchResults; // every key is set by now (the type lists them)
  if (ONLY || !isFullRun(complete)) {
    const file = join(tmpdir(), `kdr-bench-${runId}-partial.json`);
    writeFileSync(file, JSON.stringify(complete, null, 1));
    process.stdout.write(lifecycleSections(complete).join('\n') + '\n');
    say(`BENCH_ONLY: wrote ${file}, not bench/RESULTS.md`);
  } else {
    writeReport(complete, { rssMethod: peakRssMethod, putChartSvg: putChart(complete.put, runId) });
    say(`wrote bench/RESULTS.md, bench/put.svg and bench/results.json in ${(complete.totalMs / 1000).toFixed(0)} s`);
  }
} catch (error) {
  say(`failed: ${error instanceof Error ? error.stack : String(error)}`);
  await cleanup();
  process.exitCode = 1;
}
