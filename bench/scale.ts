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
// bundled by this file with the same esbuild options as today's check beside it, so only the list differs.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Socket } from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { apiserverPidFile } from '../test/support/apiserver.js';
import { auditLogPath, repoRoot as root } from '../test/support/cluster.js';
import { auditOffset, readBenchEvents, describe as describeEvent } from './lib/audit.js';
import { ByteCounter } from './lib/byte-counter.js';
import { Api, Identities, readAdminSource, type Identity } from './lib/cluster.js';
import { DisruptionMonitor } from './lib/disruptions.js';
import { KUBECTL, kubectlClientVersion, loadAverage, measuredCommit } from './lib/machine.js';
import { median, nodeBin, run, scriptEnv, stats, type ProcessResult } from './lib/proc.js';
import type { ScaleChecks } from './lib/scale-checks.js';
import { scaleCharts } from './lib/scale-chart.js';
import {
  checkScaleBlockPattern,
  scaleLabels,
  scaleSection,
  type LoadRun,
  type ScaleResults,
} from './lib/scale-report.js';

const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 20);
const LOADS = (process.env.BENCH_SCALE_LOAD ?? '50,200').split(',').map(Number);
const FULL_LOADS = new Set((process.env.BENCH_SCALE_FULL_LOAD ?? '50').split(',').map(Number));
const REVISIONS = 10;
const CONFIGMAP_BYTES = 900 * 1024;
const started = performance.now();
const say = (m: string) =>
  process.stderr.write(`[bench:scale ${((performance.now() - started) / 1000).toFixed(1)}s] ${m}\n`);

const admin = readAdminSource();
const api = new Api(admin);
const runId = Date.now().toString(36).slice(-6);
const ids = new Identities(admin, runId);
const work = mkdtempSync(join(tmpdir(), 'kdr-bench-scale-'));
const monitor = new DisruptionMonitor();
const namespace = `kdr-bench-${runId}-scale`;
const recordKey = 'kubernetes-deploy-resource.io/release';
const counters: ByteCounter[] = [];

const fail = (what: string, r: ProcessResult): never => {
  throw new Error(`${what}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n${(r.stderr ?? '').slice(-2000)}`);
};

/** Today's check and the one before issue 28, bundled alike (no launcher, no code cache: only the list differs). */
async function buildChecks(): Promise<{ today: string; before: string; load: string }> {
  const common = {
    bundle: true,
    platform: 'node' as const,
    target: 'node24',
    format: 'cjs' as const,
    minify: true,
    legalComments: 'none' as const,
    logLevel: 'warning' as const,
    alias: { undici: join(root, 'scripts', 'bundle', 'undici-stub.mjs') },
  };
  const today = join(work, 'check-today.cjs');
  const before = join(work, 'check-before.cjs');
  await build({ ...common, entryPoints: [join(root, 'src', 'entrypoints', 'check.ts')], outfile: today });
  await build({ ...common, entryPoints: [join(root, 'bench', 'lib', 'full-list-check.ts')], outfile: before });
  const load = join(work, 'scale-checks.cjs');
  await build({ ...common, entryPoints: [join(root, 'bench', 'lib', 'scale-checks.ts')], outfile: load });
  return { today, before, load };
}

/** One put of app `app` (image tag `tag`), with a ConfigMap of `bytes` random characters when bytes > 0. */
async function put(app: string, tag: number, bytes: number): Promise<void> {
  const sources = mkdtempSync(join(work, 'src-'));
  const manifests: string[] = [];
  if (bytes > 0) {
    // Base64 of random bytes: it hardly compresses, so each recorded revision is about this big.
    const blob = randomBytes(Math.ceil((bytes * 3) / 4))
      .toString('base64')
      .slice(0, bytes);
    writeFileSync(
      join(sources, 'data.yml'),
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${app}-data` }, data: { blob } }),
    );
    manifests.push('data.yml');
  }
  const r = await run(join(root, 'assets', 'out'), [sources], {
    input: JSON.stringify({
      source: { ...ids.get('put').source, namespace, app },
      params: { image_ref: `registry.example.com/bench/${app}:${tag}`, manifests, wait: false },
    }),
    env: scriptEnv({ BUILD_NAME: String(tag), BUILD_JOB_NAME: 'bench', BUILD_PIPELINE_NAME: 'bench' }),
  });
  if (r.code !== 0) fail(`put ${app} ${tag}`, r);
  rmSync(sources, { recursive: true, force: true });
}

/** A source (and kubeconfig) of identity `name` whose traffic goes through a byte counter of its own. */
async function counted(name: string): Promise<{ id: Identity; counter: ByteCounter; source: Identity['source'] }> {
  const id = ids.get(name);
  const counter = new ByteCounter(new URL(admin.cluster_url));
  counters.push(counter);
  const url = await counter.url();
  const kubeconfig = JSON.parse(readFileSync(id.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  kubeconfig.clusters[0]!.cluster.server = url;
  writeFileSync(id.kubeconfig, JSON.stringify(kubeconfig), { mode: 0o600 });
  return { id, counter, source: { ...id.source, cluster_url: url } };
}

interface Variant {
  label: string;
  app: string;
  kind: 'ours' | 'before' | 'baseline';
  counter: ByteCounter;
  user: string;
  run: () => Promise<ProcessResult>;
}

async function perCheck(bundles: { today: string; before: string }) {
  const checkOf = async (label: string, name: string, app: string, file: string | undefined, kind: Variant['kind']) => {
    const { id, counter, source } = await counted(name);
    const input = JSON.stringify({ source: { ...source, namespace, app } });
    const runIt = () =>
      file ? run(nodeBin, [file], { input, rss: true }) : run(join(root, 'assets', 'check'), [], { input, rss: true });
    return { label, app, kind, counter, user: id.user, run: runIt } satisfies Variant;
  };
  const kubectlVariant = async (): Promise<Variant> => {
    const { id, counter } = await counted('kubectl');
    const runIt = () => {
      const cacheDir = mkdtempSync(join(work, 'kubectl-cache-'));
      const args = ['--kubeconfig', id.kubeconfig, '--cache-dir', cacheDir, 'get', 'secrets', '-n', namespace];
      return run(KUBECTL, [...args, '-l', `${recordKey}=big`, '-o', 'name'], { rss: true }).finally(() =>
        rmSync(cacheDir, { recursive: true, force: true }),
      );
    };
    return {
      label: 'kubectl get secrets -l … -o name (cold cache)',
      app: 'big',
      kind: 'baseline',
      counter,
      user: id.user,
      run: runIt,
    };
  };
  const variants: Variant[] = [
    await checkOf(scaleLabels.big, 'check-big', 'big', undefined, 'ours'),
    await checkOf(scaleLabels.tiny, 'check-tiny', 'tiny', undefined, 'ours'),
    await checkOf(scaleLabels.todayBig, 'today-big', 'big', bundles.today, 'ours'),
    await checkOf(scaleLabels.beforeBig, 'before-big', 'big', bundles.before, 'before'),
    await checkOf('check before issue 28 (full list), 1 tiny', 'before-tiny', 'tiny', bundles.before, 'before'),
    await kubectlVariant(),
  ];
  say('per-check: warm-up round');
  const outputs: Record<string, string> = {};
  for (const v of variants) {
    const r = await v.run();
    if (r.code !== 0) fail(v.label, r);
    outputs[v.label] = r.stdout.trim();
  }
  for (const v of variants) {
    v.counter.received = 0;
    v.counter.sent = 0;
    v.counter.connections = 0;
  }
  // Requests are counted from the audit log when the cluster writes one (the local test cluster does).
  const audit = existsSync(auditLogPath) ? auditOffset() : undefined;
  const times: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.label, []]));
  const rss: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.label, []]));
  const runs: Record<string, number> = Object.fromEntries(variants.map((v) => [v.label, 0]));
  const rounds: Record<string, number>[] = [];
  let excluded = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const round: Record<string, number> = {};
    rounds.push(round);
    for (const v of [...variants].sort(() => Math.random() - 0.5)) {
      const r = await v.run();
      runs[v.label]!++;
      if (r.code !== 0) fail(v.label, r);
      if (monitor.overlaps(r.startedAt, r.endedAt)) {
        excluded++;
        continue;
      }
      times[v.label]!.push(r.ms);
      if (r.peakRssKb) rss[v.label]!.push(r.peakRssKb);
      round[v.label] = r.ms;
    }
    if ((i + 1) % 5 === 0) say(`per-check: round ${i + 1}/${ROUNDS}`);
  }
  await new Promise((resolve) => setTimeout(resolve, 3000)); // the audit log is written asynchronously
  const events = audit ? readBenchEvents(audit) : new Map<string, never[]>();
  const perVariant = variants.map((v) => {
    const evs = events.get(v.user) ?? [];
    const kinds = [...new Set(evs.map((e) => describeEvent(e)))];
    return {
      label: v.label,
      app: v.app,
      kind: v.kind,
      runs: runs[v.label]!,
      stats: stats(times[v.label]!),
      bytesReceived: v.counter.received / runs[v.label]!,
      bytesSent: v.counter.sent / runs[v.label]!,
      connections: v.counter.connections / runs[v.label]!,
      requests: audit ? evs.length / runs[v.label]! : NaN,
      requestKinds: kinds.slice(0, 6),
      peakRssKb: median(rss[v.label]!),
      output: outputs[v.label] ?? '',
    };
  });
  return { variants: perVariant, rounds, excluded };
}

/** kube-apiserver's CPU time so far (user + system, all threads), in seconds. */
const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
function apiserverCpuSeconds(): number {
  const pid = readFileSync(apiserverPidFile, 'utf8').trim();
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const after = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
  return (Number(after[11]) + Number(after[12])) / ticks;
}

// Each in-process check connects afresh (a new TLS connection, as a new process does) and its sockets are closed
// when it ends (a process's are at exit): the agents' sockets made under a check are collected here.
const socketsOfCheck = new AsyncLocalStorage<Set<Socket>>();
const createConnection = https.Agent.prototype.createConnection;
https.Agent.prototype.createConnection = function (this: https.Agent, ...args: unknown[]) {
  const socket = (createConnection as (...a: unknown[]) => Socket).apply(this, args);
  socketsOfCheck.getStore()?.add(socket);
  return socket;
} as typeof createConnection;

async function once(work: () => Promise<unknown>): Promise<void> {
  const sockets = new Set<Socket>();
  try {
    await socketsOfCheck.run(sockets, work);
  } finally {
    for (const s of sockets) s.destroy();
  }
}

async function load(label: string, concurrency: number, total: number, one: () => Promise<unknown>) {
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  let firstError = '';
  const cpuBefore = apiserverCpuSeconds();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (issued < total) {
        issued++;
        const s = performance.now();
        try {
          await once(one);
          latencies.push(performance.now() - s);
        } catch (error) {
          errors++;
          firstError ||= (error as Error).message.split('\n')[0] ?? '';
        }
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = apiserverCpuSeconds() - cpuBefore;
  const disrupted = monitor.overlaps(t0, t0 + wallMs);
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  const result: LoadRun = {
    label,
    concurrency,
    checks: latencies.length,
    errors,
    firstError,
    wallMs,
    perSecond: latencies.length / (wallMs / 1000),
    p50: pct(50),
    p99: pct(99),
    min: sorted[0] ?? NaN,
    max: sorted.at(-1) ?? NaN,
    apiserverCpuS: cpu,
    disrupted,
  };
  say(
    `load ${label} N=${concurrency}: ${result.checks} in ${(wallMs / 1000).toFixed(1)} s, ` +
      `${result.perSecond.toFixed(1)}/s, p50 ${result.p50.toFixed(0)} ms, p99 ${result.p99.toFixed(0)} ms, ` +
      `apiserver ${cpu.toFixed(2)} CPU-s${errors ? `, ${errors} errors (${firstError})` : ''}`,
  );
  return result;
}

/** The one list request kubectl's `get secrets -l … -o name` makes (URL and Accept header), read from its -v=8 log. */
function kubectlRequest(): { path: string; accept: string; userAgent: string } {
  const id = ids.get('kubectl-probe');
  const cacheDir = mkdtempSync(join(work, 'kubectl-probe-'));
  const args = ['--kubeconfig', id.kubeconfig, '--cache-dir', cacheDir, 'get', 'secrets', '-n', namespace];
  let text: string;
  try {
    // -v=8 logs each request with its headers on stderr.
    const r = spawnSync(KUBECTL, [...args, '-l', `${recordKey}=big`, '-o', 'name', '-v=8'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`kubectl -v=8: exit ${r.status}: ${r.stderr.slice(-2000)}`);
    text = r.stderr;
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const url = /https:\/\/[^\s"'>]+\/secrets\?[^\s"'>]+/.exec(text)?.[0];
  if (!url) throw new Error(`kubectl -v=8 showed no list of secrets:\n${text.slice(-2000)}`);
  const afterUrl = text.slice(text.indexOf(url));
  const accept = /Accept:\s*([^\n>"]+)/.exec(afterUrl)?.[1]?.trim() ?? 'application/json';
  const userAgent = /User-Agent:\s*([^\n>"]+)/.exec(afterUrl)?.[1]?.trim() ?? 'kubectl';
  const parsed = new URL(url);
  return { path: parsed.pathname + parsed.search, accept, userAgent };
}

/** The same request as kubectl, on a fresh TLS connection (agent without keep-alive). */
function replay(source: Identity['source'], request: { path: string; accept: string; userAgent: string }) {
  const base = new URL(source.cluster_url);
  const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
  const tls = { ca: pem(source.cluster_ca), cert: pem(source.admin_cert), key: pem(source.admin_key) };
  return () =>
    new Promise<void>((resolve, reject) => {
      const req = https.request(
        {
          host: base.hostname,
          port: base.port,
          path: request.path,
          method: 'GET',
          agent: new https.Agent({ ...tls, keepAlive: false }),
          ...tls,
          // Go's transport asks for gzip on its own (kubectl's log does not show it); the answer is drained as is.
          headers: { Accept: request.accept, 'Accept-Encoding': 'gzip', 'User-Agent': request.userAgent },
        },
        (res) => {
          res.on('data', () => undefined);
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
        },
      );
      req.on('error', reject);
      req.end();
    });
}

async function loads(
  module: string,
): Promise<{ runs: LoadRun[]; idleCpuPerS: number; kubectl: { path: string; accept: string } }> {
  const source = ids.get('load').source;
  const { scaleChecks } = createRequire(import.meta.url)(module) as {
    scaleChecks: (request: { source: Record<string, unknown> }) => ScaleChecks;
  };
  const { today, before } = scaleChecks({ source: { ...source, namespace, app: 'big' } });
  const tiny = scaleChecks({ source: { ...source, namespace, app: 'tiny' } }).today;
  const kubectl = kubectlRequest();
  const kubectlOnce = replay(source, kubectl);
  // Sanity: each answers as expected before it is loaded.
  const [a, b] = [await today(), await before()];
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`the two checks disagree: ${JSON.stringify([a, b])}`);
  await kubectlOnce();
  // What the API server burns idle (controllers, the kubelet stand-in, other tests' watches), to take off.
  const idleFrom = apiserverCpuSeconds();
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const idleCpuPerS = (apiserverCpuSeconds() - idleFrom) / 5;
  const runs: LoadRun[] = [];
  for (const n of LOADS) {
    runs.push(await load(scaleLabels.metadataLoad, n, 4 * n, today));
    // The floor: a check whose list is all but empty (what a new connection and one request cost).
    runs.push(await load(scaleLabels.tinyLoad, n, 4 * n, tiny));
    if (FULL_LOADS.has(n)) runs.push(await load(scaleLabels.fullLoad, n, 2 * n, before));
    runs.push(await load(scaleLabels.kubectlLoad, n, 2 * n, kubectlOnce));
  }
  return { runs, idleCpuPerS, kubectl: { path: kubectl.path, accept: kubectl.accept } };
}

async function main(): Promise<ScaleResults> {
  const loadStart = loadAverage();
  await api.createNamespace(namespace, { 'kdr-bench-run': runId });
  say(`building the two checks; ${REVISIONS} puts of app big (a ${CONFIGMAP_BYTES / 1024} KiB ConfigMap each)`);
  const bundles = await buildChecks();
  for (let i = 1; i <= REVISIONS; i++) await put('big', i, CONFIGMAP_BYTES);
  await put('tiny', 1, 0);
  const records = await api.ok('GET', `/api/v1/namespaces/${namespace}/secrets?labelSelector=${recordKey}`);
  const recordBytes = (records.items as { metadata: { name: string }; data?: { release?: string } }[]).map((s) => ({
    name: s.metadata.name,
    bytes: Buffer.from(s.data?.release ?? '', 'base64').length,
  }));
  say(`records: ${recordBytes.map((r) => `${r.name} ${(r.bytes / 1024).toFixed(0)} KiB`).join(', ')}`);
  const per = await perCheck(bundles);
  say('load runs');
  const loaded = await loads(bundles.load);
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
