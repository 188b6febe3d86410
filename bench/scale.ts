// npm run bench:scale — what a check costs the API server when an app's history is large (issue 28), beside check as
// it was before (the records from a whole list) and kubectl, all measured in the same run:
//
// 1. One check (a process each, as Concourse runs it) of an app with 10 revisions of a release holding a ~900 KiB
//    ConfigMap of random data, and of an app with one tiny revision: bytes received from the API server (on the wire,
//    through a counting relay: bench/lib/byte-counter.ts), requests (audit log), wall time, peak RSS.
// 2. Load: N concurrent checks (N = 50, 200) of the large app against the test API server: checks/s, p50/p99
//    latency, and kube-apiserver's CPU seconds per 1,000 checks (utime + stime from /proc/PID/stat), beside the
//    request `kubectl get secrets -l … -o name` makes, under the same load.
//
// Writes the check-scale section of bench/RESULTS.md, bench/scale.svg and the raw figures bench/scale.json.
//
//   npm run cluster:up && npm run bench:scale   (BENCH_SCALE_ROUNDS 20, BENCH_SCALE_LOAD "50,200",
//                                                BENCH_SCALE_FULL_LOAD "50": the N the full-list variant runs at)
//
// "Before issue 28" is src/entrypoints/check.ts with listMetadata answered by a full list (bench/lib/full-list.ts),
// bundled by this bench (bench/lib/scale-per-check.ts) with the same esbuild options as today's check beside it, so
// only the list differs.
//
// The per-check part is bench/lib/scale-per-check.ts, the load part bench/lib/scale-load.ts; what they share (the
// settings, the run's state) bench/lib/scale-context.ts.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { repoRoot as root } from '../test/support/cluster.js';
import { kubectlClientVersion, loadAverage, measuredCommit } from './lib/machine.js';
import { scaleCharts } from './lib/scale-chart.js';
import { CONFIGMAP_BYTES, recordKey, REVISIONS, ROUNDS, startScaleBench } from './lib/scale-context.js';
import { loads } from './lib/scale-load.js';
import { buildChecks, perCheck, put } from './lib/scale-per-check.js';
import { checkScaleBlockPattern, scaleSection, type ScaleResults } from './lib/scale-report.js';

const bench = startScaleBench();
const { say, api, runId, ids, work, monitor, namespace, counters } = bench;

async function main(): Promise<ScaleResults> {
  const loadStart = loadAverage();
  await api.createNamespace(namespace, { 'kdr-bench-run': runId });
  say(`building the two checks; ${REVISIONS} puts of app big (a ${CONFIGMAP_BYTES / 1024} KiB ConfigMap each)`);
  const bundles = await buildChecks(bench);
  for (let i = 1; i <= REVISIONS; i++) await put(bench, 'big', i, CONFIGMAP_BYTES);
  await put(bench, 'tiny', 1, 0);
  const records = await api.ok('GET', `/api/v1/namespaces/${namespace}/secrets?labelSelector=${recordKey}`);
  const recordBytes = (records.items as { metadata: { name: string }; data?: { release?: string } }[]).map((s) => ({
    name: s.metadata.name,
    bytes: Buffer.from(s.data?.release ?? '', 'base64').length,
  }));
  say(`records: ${recordBytes.map((r) => `${r.name} ${(r.bytes / 1024).toFixed(0)} KiB`).join(', ')}`);
  const per = await perCheck(bench, bundles);
  say('load runs');
  const loaded = await loads(bench, bundles.load);
  const version = (await api.ok('GET', '/version')) as { gitVersion?: string };
  return {
    runId,
    date: new Date().toISOString(),
    machine: {
      nproc: os.availableParallelism(),
      cpu: os.cpus()[0]?.model ?? '',
      memGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      kubectl: kubectlClientVersion(),
      apiserver: version.gitVersion ?? '',
      git: measuredCommit(),
      loadStart,
      loadEnd: loadAverage(),
    },
    rounds: ROUNDS,
    records: recordBytes,
    perCheck: per.variants,
    pairs: per.rounds,
    excluded: per.excluded,
    load: loaded.runs,
    idleApiserverCpuPerS: loaded.idleCpuPerS,
    kubectlRequest: loaded.kubectl,
  };
}

try {
  const r = await main();
  mkdirSync(join(root, 'bench'), { recursive: true });
  writeFileSync(join(root, 'bench', 'scale.json'), JSON.stringify(r, null, 1) + '\n');
  const charts = scaleCharts(r);
  writeFileSync(join(root, 'bench', 'scale.svg'), charts.perCheck);
  writeFileSync(join(root, 'bench', 'scale-load.svg'), charts.load);
  const file = join(root, 'bench', 'RESULTS.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const block = scaleSection(r);
  const next = checkScaleBlockPattern.test(old)
    ? old.replace(checkScaleBlockPattern, () => block)
    : old.replace(/\n*$/, '\n\n') + block + '\n';
  writeFileSync(file, next);
  process.stdout.write(block + '\n');
} finally {
  monitor.stop();
  for (const c of counters) c.close();
  await api.deleteNamespaces([namespace], { wait: false }).catch(() => undefined);
  ids.cleanup();
  rmSync(work, { recursive: true, force: true });
}
