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
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as yaml from 'js-yaml';
import { repoRoot as root } from '../test/support/cluster.js';
import { metadataOf as metadataOfResult } from '../test/support/run-script.js';
import { auditOffset, readBenchEvents } from './lib/audit.js';
import { putChart } from './lib/chart.js';
import { Api, Identities, readAdminSource, type Identity, type KubeObject } from './lib/cluster.js';
import { DisruptionMonitor } from './lib/disruptions.js';
import { KUBECTL, kubectlClientVersion, loadAverage, measuredCommit, serverVersion } from './lib/machine.js';
import {
  nodeBin,
  peakRssMethod,
  pool,
  run,
  scriptEnv,
  sleep,
  stats,
  type ProcessResult,
  type RunOptions,
} from './lib/proc.js';
import { lifecycleSections, writeReport } from './lib/report.js';
import type {
  BenchResults,
  CheckResults,
  FailRun,
  KubectlFailRun,
  KubectlPut,
  KubectlReput,
  Machine,
  OurPut,
  OurReput,
  PruneRep,
  PutRep,
  PutResults,
  RecoveryRun,
  RollbackRep,
  ScalePhase,
  ScaleRow,
  ScriptName,
  Sizes,
  SweepResult,
  WorkloadsRep,
} from './lib/results.js';
import { isFullRun, scaleRan } from './lib/results.js';
import { imageCaches, type ImageCaches } from './lib/image-caches.js';
import { sideModules as sideModuleNames } from '../scripts/bundle/check-bundle.mjs';

const benchStarted = performance.now();
const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 15);
const PUT_REPS = Number(env.BENCH_PUT_REPS ?? 5);
const FAIL_REPS = Number(env.BENCH_FAIL_REPS ?? 3);
const SCALE = (env.BENCH_SCALE ?? '10,25,50').split(',').map(Number).filter(Boolean);
const CONCURRENCY = Number(env.BENCH_CONCURRENCY ?? 4);
const BUDGET_MS = Number(env.BENCH_BUDGET_S ?? 540) * 1000;
const SCRIPTS: ScriptName[] = ['check', 'in', 'out'];

const say = (message: string) =>
  process.stderr.write(`[bench ${((performance.now() - benchStarted) / 1000).toFixed(1)}s] ${message}\n`);

const admin = readAdminSource();
const api = new Api(admin);
const runId = Date.now().toString(36).slice(-6);
const ids = new Identities(admin, runId);
const namespaces: string[] = [];
const work = mkdtempSync(join(tmpdir(), 'kdr-bench-'));
// The bundles this run measures: a private copy of assets/ taken now, so another session's `npm run build` (tests
// rebuild assets/ while other sessions change src/) cannot swap them in the middle of the run.
const snapshot = mkdtempSync(join(work, 'assets-'));
for (const f of [...SCRIPTS, 'package.json', 'meta.json']) copyFileSync(join(root, 'assets', f), join(snapshot, f));
cpSync(join(root, 'assets', 'lib'), join(snapshot, 'lib'), { recursive: true }); // the bundles, the side modules
const assets = (name: string) => join(snapshot, name);
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
/** The results so far: each section fills its key (BenchResults says which). */
const results: Partial<BenchResults> & Pick<BenchResults, 'runId' | 'started'> = {
  runId,
  started: new Date().toISOString(),
  bundleHashes: { check: sha256(assets('check')), in: sha256(assets('in')), out: sha256(assets('out')) },
};
const offset = auditOffset();
const monitor = new DisruptionMonitor();
const disrupted = (from: number, to: number) => monitor.overlaps(from, to);

async function newNamespace(label: string): Promise<string> {
  const name = `kdr-bench-${runId}-${label}`;
  await api.createNamespace(name, { 'kdr-bench-run': runId });
  namespaces.push(name);
  return name;
}

let cleaning: Promise<void> | undefined;
async function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    say(`deleting ${namespaces.length} namespaces`);
    const gone = await api.deleteNamespaces(namespaces, { wait: true, timeoutMs: 90_000 }).catch(() => false);
    results.cleanup = { namespaces: namespaces.length, allGone: gone };
    ids.cleanup();
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => void cleanup().finally(() => process.exit(130)));

const request = (id: Identity, namespace: string, app: string, params: Record<string, unknown>) =>
  JSON.stringify({ source: { ...id.source, namespace, app }, params });
const concourseEnv = (extra: Record<string, string> = {}) =>
  scriptEnv({ BUILD_NAME: '1', BUILD_JOB_NAME: 'bench', BUILD_PIPELINE_NAME: 'bench', ...extra });

/** When the bench's watch saw a Deployment created, Available with all replicas, and complete (performance.now()). */
interface DeploymentTimes {
  createdAt?: number;
  availableAt?: number;
  completeAt?: number;
}

interface Observation {
  deployments: Map<string, DeploymentTimes>;
  podFailure?: number;
  podBackOff?: number;
  podFailureReason?: string;
  stop(): void;
}

/** Watches Deployments (and optionally Pods) of a namespace from the bench process (admin identity). */
async function observe(namespace: string, { pods = false } = {}): Promise<Observation> {
  const deployments = new Map<string, DeploymentTimes>();
  const seen: Omit<Observation, 'stop'> = { deployments };
  const deployment = (name: string) => {
    const known = deployments.get(name);
    if (known) return known;
    const times: DeploymentTimes = {};
    deployments.set(name, times);
    return times;
  };
  const watches = [
    api.watch(`/apis/apps/v1/namespaces/${namespace}/deployments`, (type, obj, at) => {
      if (!obj?.metadata?.name) return;
      const d = deployment(obj.metadata.name);
      if (type === 'ADDED' && d.createdAt === undefined) d.createdAt = at;
      const available = obj.status?.conditions?.find((c: KubeObject) => c.type === 'Available')?.status === 'True';
      const replicas = obj.spec?.replicas ?? 1;
      if (available && (obj.status?.availableReplicas ?? 0) >= replicas && d.availableAt === undefined)
        d.availableAt = at;
      // kubectl's rollout-complete condition, for reference
      const s = obj.status ?? {};
      if (
        d.completeAt === undefined &&
        (s.observedGeneration ?? 0) >= obj.metadata.generation &&
        (s.updatedReplicas ?? 0) === replicas &&
        (s.availableReplicas ?? 0) === replicas &&
        (s.replicas ?? 0) === replicas
      )
        d.completeAt = at;
    }),
  ];
  if (pods) {
    watches.push(
      api.watch(`/api/v1/namespaces/${namespace}/pods`, (_type, obj, at) => {
        for (const cs of obj?.status?.containerStatuses ?? []) {
          const reason = cs.state?.waiting?.reason;
          if ((reason === 'ErrImagePull' || reason === 'ImagePullBackOff') && seen.podFailure === undefined) {
            seen.podFailure = at;
            seen.podFailureReason = reason;
          }
          if (reason === 'ImagePullBackOff' && seen.podBackOff === undefined) seen.podBackOff = at;
        }
      }),
    );
  }
  await Promise.all(watches.map((w) => w.ready));
  return Object.assign(seen, { stop: () => watches.forEach((w) => w.stop()) });
}

/** A cold kubectl process as the identity: a fresh --cache-dir, as in a fresh container. */
const kubectl = (id: Identity, args: string[], options: RunOptions = {}) => {
  const cacheDir = mkdtempSync(join(work, 'kubectl-cache-'));
  return run(KUBECTL, ['--kubeconfig', id.kubeconfig, '--cache-dir', cacheDir, ...args], {
    env: scriptEnv(),
    ...options,
  }).finally(() => rmSync(cacheDir, { recursive: true, force: true }));
};

function fail(what: string, r: ProcessResult): never {
  throw new Error(`${what}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n${r.stderr.slice(-2000)}`);
}

/** A put's or get's metadata (Concourse's name/value list), from its stdout. */
const metadataOf = (stdout: string) => metadataOfResult({ json: JSON.parse(stdout) });

const lastErrorLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  return lines.find((line) => line.startsWith('error: ')) ?? lines.at(-1);
};

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
// 2. put of a 3-object release (first: check needs a release that exists), ours vs kubectl apply + rollout status;
// ours also with the compile cache the image ships; then the no-op re-put of each way
const putParams = {
  image_ref: 'registry.example.com/bench/web:1.0',
  replicas: 2,
  host: 'web.bench.local',
  ingress_class: 'traefik',
};

/** Our put into a fresh namespace, timed against the bench's watch of the Deployment. */
async function ourPut(label: string, idName: string, sources: string, caches?: ImageCaches) {
  const extraEnv = caches?.env ?? {};
  const ns = await newNamespace(label);
  const id = ids.get(idName);
  const seen = await observe(ns);
  const r = await run(caches?.script('out') ?? assets('out'), [sources], {
    input: request(id, ns, 'web', putParams),
    env: concourseEnv(extraEnv),
    rss: true,
  });
  await sleep(100);
  seen.stop();
  if (r.code !== 0) fail(`put (${idName})`, r);
  const d = seen.deployments.get('web') ?? {};
  if (d.createdAt === undefined || d.availableAt === undefined || d.completeAt === undefined)
    throw new Error(`put (${idName}): the bench's watch did not see the Deployment created and Available`);
  const clusterMs = d.availableAt - d.createdAt;
  const put: OurPut = {
    ns,
    user: id.user,
    ms: r.ms,
    peakRssKb: r.peakRssKb,
    clusterMs,
    completeMs: d.completeAt - d.createdAt,
    startToCreated: d.createdAt - r.startedAt,
    availableToExit: r.endedAt - d.availableAt,
    overheadMs: r.ms - clusterMs,
    disrupted: disrupted(r.startedAt, r.endedAt),
  };
  return { put, version: JSON.parse(r.stdout).version as unknown };
}

/** Our no-op re-put: the same request again into the release's namespace. */
async function ourReput(ns: string, idName: string, sources: string, caches?: ImageCaches) {
  const extraEnv = caches?.env ?? {};
  const id = ids.get(idName);
  const r = await run(caches?.script('out') ?? assets('out'), [sources], {
    input: request(id, ns, 'web', putParams),
    env: concourseEnv(extraEnv),
    rss: true,
  });
  if (r.code !== 0) fail(`re-put (${idName})`, r);
  const reput: OurReput = {
    user: id.user,
    ms: r.ms,
    peakRssKb: r.peakRssKb,
    disrupted: disrupted(r.startedAt, r.endedAt),
  };
  return reput;
}

/** The kubectl way: `kubectl apply -f file` then `kubectl rollout status`, two cold processes. */
async function kubectlApplyAndWait(ns: string, file: string, applyName: string, rolloutName: string) {
  const applyId = ids.get(applyName);
  const rolloutId = ids.get(rolloutName);
  const apply = await kubectl(applyId, ['apply', '-n', ns, '-f', file], { rss: true });
  if (apply.code !== 0) fail('kubectl apply', apply);
  const rollout = await kubectl(rolloutId, ['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=120s'], {
    rss: true,
  });
  if (rollout.code !== 0) fail('kubectl rollout status', rollout);
  return { applyId, rolloutId, apply, rollout };
}

async function benchPut(putReps: number): Promise<PutResults> {
  const reps: PutRep[] = [];
  let manifests = '';
  // The code caches the image ships, made as the Dockerfile makes them.
  const caches = await imageCaches(snapshot, work);
  for (let rep = 1; rep <= putReps; rep++) {
    // ours, without and with the compile cache; which goes first alternates between reps
    const sources = mkdtempSync(join(work, 'sources-'));
    const plainFirst = rep % 2 === 1;
    const putPlain = () => ourPut(`put${rep}`, `put-${rep}`, sources);
    const putCached = () => ourPut(`putcc${rep}`, `put-cc-${rep}`, sources, caches);
    const plain = plainFirst ? await putPlain() : undefined;
    const cached = await putCached();
    const ours = plain ?? (await putPlain());

    // in: the release's YAML, for the kubectl way
    const dest = mkdtempSync(join(work, 'dest-'));
    const inId = ids.get(`in-${rep}`);
    const got = await run(assets('in'), [dest], {
      input: JSON.stringify({
        source: { ...inId.source, namespace: ours.put.ns, app: 'web' },
        version: ours.version,
        params: {},
      }),
      env: concourseEnv(),
      rss: true,
    });
    if (got.code !== 0) fail('in', got);
    const file = join(dest, 'manifests.yml');
    manifests = readFileSync(file, 'utf8');

    // the kubectl way: the same YAML, kubectl apply -f, then kubectl rollout status; each a cold process
    const kns = await newNamespace(`kput${rep}`);
    const kseen = await observe(kns);
    const first = await kubectlApplyAndWait(kns, file, `kubectl-apply-${rep}`, `kubectl-rollout-${rep}`);
    await sleep(100);
    kseen.stop();
    const kd = kseen.deployments.get('web') ?? {};
    if (kd.createdAt === undefined || kd.availableAt === undefined || kd.completeAt === undefined)
      throw new Error("kubectl put: the bench's watch did not see the Deployment created and Available");
    const kubectlWall = first.rollout.endedAt - first.apply.startedAt;
    const theirs: KubectlPut = {
      ns: kns,
      applyUser: first.applyId.user,
      rolloutUser: first.rolloutId.user,
      applyMs: first.apply.ms,
      rolloutMs: first.rollout.ms,
      ms: kubectlWall,
      clusterMs: kd.availableAt - kd.createdAt,
      completeMs: kd.completeAt - kd.createdAt,
      overheadMs: kubectlWall - (kd.availableAt - kd.createdAt),
      peakRssKb: Math.max(first.apply.peakRssKb ?? 0, first.rollout.peakRssKb ?? 0) || undefined,
      disrupted: disrupted(first.apply.startedAt, first.rollout.endedAt),
    };

    // the no-op re-puts: ours (without and with the cache, alternating), then kubectl's apply of the same file again
    const reputPlain = () => ourReput(ours.put.ns, `reput-${rep}`, sources);
    const reputCached = () => ourReput(cached.put.ns, `reput-cc-${rep}`, sources, caches);
    const againPlain = plainFirst ? await reputPlain() : undefined;
    const againCached = await reputCached();
    const again = againPlain ?? (await reputPlain());
    const second = await kubectlApplyAndWait(kns, file, `kubectl-reapply-${rep}`, `kubectl-rerollout-${rep}`);
    const theirsAgain: KubectlReput = {
      applyUser: second.applyId.user,
      rolloutUser: second.rolloutId.user,
      applyMs: second.apply.ms,
      rolloutMs: second.rollout.ms,
      ms: second.rollout.endedAt - second.apply.startedAt,
      disrupted: disrupted(second.apply.startedAt, second.rollout.endedAt),
    };
    reps.push({
      ours: ours.put,
      oursCompileCache: cached.put,
      in: { user: inId.user, ms: got.ms, peakRssKb: got.peakRssKb },
      again,
      againCompileCache: againCached,
      theirs,
      theirsAgain,
    });
    say(
      `put rep ${rep}: overhead ours ${Math.round(ours.put.overheadMs)} ms, + cache ` +
        `${Math.round(cached.put.overheadMs)} ms, kubectl ${Math.round(theirs.overheadMs)} ms; no-op re-put ours ` +
        `${Math.round(again.ms)} ms, + cache ${Math.round(againCached.ms)} ms, ` +
        `kubectl ${Math.round(theirsAgain.ms)} ms`,
    );
  }
  writeFileSync(join(work, 'manifests.yml'), manifests);
  return { reps, checkNamespace: reps[0]!.ours.ns, manifests };
}

// ---------------------------------------------------------------------------------------------------------------------
// 1. check cold start, interleaved with its baselines and the load-time probes
async function buildProbes(): Promise<Record<string, { file: string; bytes: number }>> {
  // Bundles of single dependencies, built like scripts/build.mjs builds the assets: what each costs to load alone.
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(work, 'probes-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}');
  const probes = {
    'client-node': "import * as k from '@kubernetes/client-node'; globalThis.__p = k;",
    zod: "import * as z from 'zod'; globalThis.__p = z;",
    'js-yaml': "import * as y from 'js-yaml'; globalThis.__p = y;",
    'zod/mini': "import * as z from 'zod/mini'; globalThis.__p = z;",
    undici: "import * as u from 'undici'; globalThis.__p = u;",
  };
  const out: Record<string, { file: string; bytes: number }> = {};
  for (const [name, code] of Object.entries(probes)) {
    const entry = join(root, 'bench', `.probe-${runId}-${name.replace(/\W/g, '_')}.mjs`);
    writeFileSync(entry, code);
    try {
      await build({
        entryPoints: [entry],
        outfile: join(dir, name.replace(/\W/g, '_')),
        bundle: true,
        platform: 'node',
        target: 'node24',
        format: 'cjs',
        minify: true,
        legalComments: 'none',
        logLevel: 'silent',
      });
      out[name] = {
        file: join(dir, name.replace(/\W/g, '_')),
        bytes: statSync(join(dir, name.replace(/\W/g, '_'))).size,
      };
    } catch {
      say(`probe ${name}: does not bundle, left out`);
    } finally {
      rmSync(entry, { force: true });
    }
  }
  return out;
}

async function benchCheck(namespace: string): Promise<CheckResults> {
  const checkId = ids.get('check');
  const ccId = ids.get('check-cc');
  const getId = ids.get('kubectl-get');
  const ccDir = mkdtempSync(join(work, 'compile-cache-'));
  const loaderCcDir = mkdtempSync(join(work, 'compile-cache-loader-'));
  const checkReq = (id: Identity) => JSON.stringify({ source: { ...id.source, namespace, app: 'web' } });
  const probes = await buildProbes();
  const variants: Record<string, () => Promise<ProcessResult>> = {
    'node -e 0': () => run(nodeBin, ['-e', '0']),
    check: () => run(assets('check'), [], { input: checkReq(checkId) }),
    'kubectl get deployment': () => kubectl(getId, ['get', 'deployment', 'web', '-n', namespace, '-o', 'json']),
    'check, validation error (load only)': () => run(assets('check'), [], { input: '{}' }),
    'check + NODE_COMPILE_CACHE': () =>
      run(assets('check'), [], { input: checkReq(ccId), env: scriptEnv({ NODE_COMPILE_CACHE: ccDir }) }),
    'validation error + NODE_COMPILE_CACHE': () =>
      run(assets('check'), [], { input: '{}', env: scriptEnv({ NODE_COMPILE_CACHE: ccDir }) }),
    'check + NODE_COMPILE_CACHE, empty cache (first run writes it)': () => {
      const fresh = mkdtempSync(join(work, 'compile-cache-fresh-'));
      return run(assets('check'), [], {
        input: checkReq(ids.get('check-cc-cold')),
        env: scriptEnv({ NODE_COMPILE_CACHE: fresh }),
      }).finally(() => rmSync(fresh, { recursive: true, force: true }));
    },
    'check via a loader calling module.enableCompileCache()': () =>
      run(nodeBin, [join(root, 'bench', 'lib', 'compile-cache-loader.mjs')], {
        input: checkReq(ids.get('check-loader')),
        env: scriptEnv({ BENCH_CC_DIR: loaderCcDir, BENCH_BUNDLE: assets('check') }),
      }),
    ...Object.fromEntries(
      Object.entries(probes).map(([name, p]) => [`load ${name} alone`, () => run(nodeBin, [p.file])]),
    ),
    'lean check probe (node:https, one list)': () =>
      run(nodeBin, [join(root, 'bench', 'lib', 'lean-check.mjs')], { input: checkReq(ids.get('lean-check')) }),
    'one request, cold TLS (in the bench process)': async () => {
      const startedAt = performance.now();
      const ms = await api.coldRequest(
        `/api/v1/namespaces/${namespace}/secrets?labelSelector=kubernetes-deploy-resource.io%2Frelease%3Dweb`,
      );
      // not a process: a result of the same shape, so that it is timed and checked as the others are
      return { code: 0, signal: null, stdout: '', stderr: '', ms, startedAt, endedAt: performance.now() };
    },
  };
  // warm the file cache and prime the compile cache (not measured)
  for (const f of Object.values(variants)) await f();
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  let excluded = 0;
  let checkOut = '';
  for (let i = 0; i < ROUNDS; i++) {
    // a fresh random order each round: no variant always runs right after the same neighbour
    const order = Object.entries(variants).sort(() => Math.random() - 0.5);
    for (const [name, f] of order) {
      const r = await f();
      if (disrupted(r.startedAt, r.endedAt)) {
        excluded++;
        continue; // an apiserver restart by someone else's test: not this variant's cost
      }
      const expected = name.includes('validation error') ? 2 : 0;
      if (r.code !== expected) fail(name, r);
      if (name === 'check') checkOut = r.stdout;
      times[name]!.push(r.ms);
    }
  }
  const rss: (number | undefined)[] = [];
  for (let i = 0; i < 3; i++)
    rss.push((await run(assets('check'), [], { input: checkReq(ids.get('check-rss')), rss: true })).peakRssKb);
  return {
    rounds: ROUNDS,
    excluded,
    stats: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, stats(v)])),
    raw: times,
    probes: Object.fromEntries(Object.entries(probes).map(([k, p]) => [k, p.bytes])),
    checkOutput: JSON.parse(checkOut),
    peakRssKb: Math.max(...rss.map((kb) => kb ?? 0)),
    users: { check: checkId.user, kubectlGet: getId.user, checkCc: ccId.user, lean: ids.get('lean-check').user },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// 3. failure detection: an unpullable image
async function benchFailOurs(): Promise<FailRun[]> {
  const reps: FailRun[] = [];
  for (let rep = 1; rep <= FAIL_REPS; rep++) {
    const ns = await newNamespace(`fail${rep}`);
    const id = ids.get(`fail-${rep}`);
    const seen = await observe(ns, { pods: true });
    const sources = mkdtempSync(join(work, 'sources-'));
    const r = await run(assets('out'), [sources], {
      input: request(id, ns, 'web', {
        image_ref: 'registry.example.com/bench/unpullable-app:1.0',
        replicas: 2,
        host: 'web.bench.local',
        timeout: '2m',
      }),
      env: concourseEnv(),
      rss: true,
    });
    await sleep(100);
    seen.stop();
    const lastLine = lastErrorLine(r.stderr);
    reps.push({
      ns,
      user: id.user,
      code: r.code,
      ms: r.ms,
      peakRssKb: r.peakRssKb,
      firstReason: seen.podFailureReason,
      detectMs: seen.podFailure === undefined ? undefined : r.endedAt - seen.podFailure,
      fromBackOffMs: seen.podBackOff === undefined ? undefined : r.endedAt - seen.podBackOff,
      error: lastLine?.slice(0, 400),
      disrupted: disrupted(r.startedAt, r.endedAt),
    });
    say(
      `failure rep ${rep}: exit ${r.code}, ${reps.at(-1)?.detectMs?.toFixed(0)} ms after the Pod showed ` +
        `${seen.podFailureReason}`,
    );
  }
  return reps;
}

// 3b. the recovery put: good → unpullable (exit 5) → good again; how long after the Deployment has rolled out again
// (kubectl's rollout-complete condition, seen by the bench's own watch) the put ends (target: within 0.5 s)
async function benchRecovery(): Promise<RecoveryRun[]> {
  const reps: RecoveryRun[] = [];
  for (let rep = 1; rep <= FAIL_REPS; rep++) {
    const ns = await newNamespace(`recover${rep}`);
    const params = (image: string) => ({ image_ref: image, replicas: 2, timeout: '2m' });
    const sources = mkdtempSync(join(work, 'sources-'));
    const good = 'registry.example.com/bench/web:1.0';
    const first = await run(assets('out'), [sources], {
      input: request(ids.get(`recover-first-${rep}`), ns, 'web', params(good)),
      env: concourseEnv(),
    });
    if (first.code !== 0) fail('recovery: first put', first);
    const broken = await run(assets('out'), [sources], {
      input: request(
        ids.get(`recover-broken-${rep}`),
        ns,
        'web',
        params('registry.example.com/bench/unpullable-app:2.0'),
      ),
      env: concourseEnv(),
    });
    if (broken.code !== 5) fail('recovery: the broken put should exit 5', broken);
    const seen = await observe(ns);
    const id = ids.get(`recover-${rep}`);
    const r = await run(assets('out'), [sources], {
      input: request(id, ns, 'web', params(good)),
      env: concourseEnv(),
      rss: true,
    });
    await sleep(100);
    seen.stop();
    if (r.code !== 0) fail('recovery put', r);
    const d = seen.deployments.get('web') ?? {};
    reps.push({
      ns,
      user: id.user,
      code: r.code,
      ms: r.ms,
      completeToExitMs: d.completeAt === undefined ? undefined : r.endedAt - d.completeAt,
      disrupted: disrupted(r.startedAt, r.endedAt),
    });
    say(
      `recovery rep ${rep}: exit ${r.code} in ${Math.round(r.ms)} ms, ` +
        `${reps.at(-1)?.completeToExitMs?.toFixed(0)} ms after the Deployment rolled out again`,
    );
  }
  return reps;
}

async function benchFailKubectl(): Promise<KubectlFailRun> {
  const ns = await newNamespace('kfail');
  const seen = await observe(ns, { pods: true });
  const file = join(work, 'unpullable.json');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 2,
        progressDeadlineSeconds: 30,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'registry.example.com/bench/unpullable-app:1.0',
                ports: [{ name: 'http', containerPort: 8080 }],
              },
            ],
          },
        },
      },
    }),
  );
  const applyId = ids.get('kfail-apply');
  const rolloutId = ids.get('kfail-rollout');
  const a = await kubectl(applyId, ['apply', '-n', ns, '-f', file]);
  if (a.code !== 0) fail('kubectl apply (unpullable)', a);
  const s = await kubectl(rolloutId, ['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=120s'], {
    rss: true,
  });
  await sleep(100);
  seen.stop();
  return {
    ns,
    code: s.code,
    ms: s.endedAt - a.startedAt,
    firstReason: seen.podFailureReason,
    detectMs: seen.podFailure === undefined ? undefined : s.endedAt - seen.podFailure,
    error: s.stderr.trim().split('\n').at(-1)?.slice(0, 300),
    disrupted: disrupted(a.startedAt, s.endedAt),
    users: { apply: applyId.user, rollout: rolloutId.user },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// 6. release lifecycle (issues 10, 11, 15): prune, rollback, a release with a StatefulSet and a Job, sweep; each beside
// the kubectl way in the same run. Small on purpose: one or a few reps each (LIFECYCLE_REPS).
const LIFECYCLE_REPS = Number(env.BENCH_LIFECYCLE_REPS ?? 2);
const GOOD = 'registry.example.com/bench/web:1.0';
const UNPULLABLE = 'registry.example.com/bench/unpullable-app:2.0';

/** The YAML documents of a file as objects, one JSON file each in a fresh dir (what `kubectl apply -f DIR` reads). */
function objectsDir(yamlText: string, edit = (o: KubeObject) => o): string {
  const dir = mkdtempSync(join(work, 'kubectl-dir-'));
  (yaml.loadAll(yamlText) as (KubeObject | null)[])
    .filter((o): o is KubeObject => Boolean(o))
    .map(edit)
    .forEach((o, i) =>
      writeFileSync(
        join(dir, `${String(i).padStart(2, '0')}-${o.kind}-${o.metadata.name}.json`.toLowerCase()),
        JSON.stringify(o),
      ),
    );
  return dir;
}

/** `in` of one version of a release: its manifests.yml (not measured). */
async function manifestsOf(ns: string, app: string, version: unknown): Promise<string> {
  const dest = mkdtempSync(join(work, 'dest-'));
  const got = await run(assets('in'), [dest], {
    input: JSON.stringify({ source: { ...ids.get('lifecycle-in').source, namespace: ns, app }, version, params: {} }),
    env: concourseEnv(),
  });
  if (got.code !== 0) fail('in', got);
  return readFileSync(join(dest, 'manifests.yml'), 'utf8');
}

const configMap = (name: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  key: ${name}\n`;

// 6a. prune put: a release with 2 extra ConfigMaps, re-put without one (prune on: the default)
async function benchPrune(): Promise<PruneRep[]> {
  const reps: PruneRep[] = [];
  for (let rep = 1; rep <= LIFECYCLE_REPS; rep++) {
    const ns = await newNamespace(`prune${rep}`);
    const sources = mkdtempSync(join(work, 'sources-'));
    const params = { image_ref: GOOD, replicas: 2, host: 'web.bench.local', manifests: ['extra.yml'] };
    writeFileSync(join(sources, 'extra.yml'), `${configMap('web-extra-a')}---\n${configMap('web-extra-b')}`);
    const first = await run(assets('out'), [sources], {
      input: request(ids.get(`prune-first-${rep}`), ns, 'web', params),
      env: concourseEnv(),
    });
    if (first.code !== 0) fail('prune: first put', first);
    writeFileSync(join(sources, 'extra.yml'), configMap('web-extra-a'));
    const id = ids.get(`prune-${rep}`);
    const r = await run(assets('out'), [sources], {
      input: request(id, ns, 'web', params),
      env: concourseEnv(),
      rss: true,
    });
    if (r.code !== 0) fail('prune put', r);
    const pruned = metadataOf(r.stdout).pruned;
    const gone = (await api.request('GET', `/api/v1/namespaces/${ns}/configmaps/web-extra-b`)).status === 404;
    // the kubectl way: the same two revisions (their manifests.yml from `in`), applied with --prune by the release's
    // labels
    const before = await manifestsOf(ns, 'web', JSON.parse(first.stdout).version);
    const after = await manifestsOf(ns, 'web', JSON.parse(r.stdout).version);
    const labels = (yaml.loadAll(after) as (KubeObject | null)[]).find((o) => o?.kind === 'ConfigMap')?.metadata.labels;
    const selector = ['app.kubernetes.io/instance', 'app.kubernetes.io/managed-by']
      .map((k) => `${k}=${labels[k]}`)
      .join(',');
    const kns = await newNamespace(`kprune${rep}`);
    const setup = await kubectl(ids.get('kprune-setup'), ['apply', '-n', kns, '-f', objectsDir(before)]);
    if (setup.code !== 0) fail('kubectl apply (prune set-up)', setup);
    const setupWait = await kubectl(ids.get('kprune-setup'), [
      'rollout',
      'status',
      '-n',
      kns,
      'deployment/web',
      '--timeout=120s',
    ]);
    if (setupWait.code !== 0) fail('kubectl rollout status (prune set-up)', setupWait);
    const applyId = ids.get(`kprune-apply-${rep}`);
    const rolloutId = ids.get(`kprune-rollout-${rep}`);
    // The kinds the release holds, named: both sides then look at the same kinds.
    const allow = [
      'core/v1/ConfigMap',
      'core/v1/Secret',
      'core/v1/Service',
      'apps/v1/Deployment',
      'networking.k8s.io/v1/Ingress',
    ].flatMap((k) => ['--prune-allowlist', k]);
    const a = await kubectl(applyId, [
      'apply',
      '-n',
      kns,
      '--prune',
      '-l',
      selector,
      ...allow,
      '-f',
      objectsDir(after),
    ]);
    if (a.code !== 0) fail('kubectl apply --prune', a);
    const s = await kubectl(rolloutId, ['rollout', 'status', '-n', kns, 'deployment/web', '--timeout=120s']);
    if (s.code !== 0) fail('kubectl rollout status (prune)', s);
    const kgone = (await api.request('GET', `/api/v1/namespaces/${kns}/configmaps/web-extra-b`)).status === 404;
    reps.push({
      ours: {
        ns,
        user: id.user,
        ms: r.ms,
        peakRssKb: r.peakRssKb,
        pruned,
        gone,
        disrupted: disrupted(r.startedAt, r.endedAt),
      },
      theirs: {
        ns: kns,
        selector,
        applyUser: applyId.user,
        rolloutUser: rolloutId.user,
        applyMs: a.ms,
        rolloutMs: s.ms,
        ms: s.endedAt - a.startedAt,
        gone: kgone,
        pruneLines: a.stdout.split('\n').filter((l) => l.includes('pruned')),
        disrupted: disrupted(a.startedAt, s.endedAt),
      },
    });
    say(
      `prune rep ${rep}: ours ${Math.round(r.ms)} ms (pruned ${pruned}), kubectl apply --prune + rollout status ` +
        `${Math.round(reps.at(-1)?.theirs.ms ?? Number.NaN)} ms`,
    );
  }
  return reps;
}

// 6b. rollback: good → unpullable with on_failure: rollback (exit 5, back on the good revision); the kubectl way is
// apply + rollout status (fails at the progress deadline, 30 s here as in section 3) + rollout undo + rollout status
async function benchRollback(): Promise<RollbackRep[]> {
  const reps: RollbackRep[] = [];
  for (let rep = 1; rep <= 1; rep++) {
    const ns = await newNamespace(`rollback${rep}`);
    const sources = mkdtempSync(join(work, 'sources-'));
    const params = (image: string) => ({
      image_ref: image,
      replicas: 2,
      host: 'web.bench.local',
      timeout: '2m',
      on_failure: 'rollback',
    });
    const first = await run(assets('out'), [sources], {
      input: request(ids.get(`rollback-first-${rep}`), ns, 'web', params(GOOD)),
      env: concourseEnv(),
    });
    if (first.code !== 0) fail('rollback: first put', first);
    const good = await manifestsOf(ns, 'web', JSON.parse(first.stdout).version);
    const seen = await observe(ns, { pods: true });
    const id = ids.get(`rollback-${rep}`);
    const r = await run(assets('out'), [sources], {
      input: request(id, ns, 'web', params(UNPULLABLE)),
      env: concourseEnv(),
      rss: true,
    });
    await sleep(100);
    seen.stop();
    if (r.code !== 5) fail('rollback put: expected exit 5', r);
    const rolledBack = r.stderr
      .split('\n')
      .find((l) => l.includes('rolled back to revision'))
      ?.trim();
    const live = await api.ok('GET', `/apis/apps/v1/namespaces/${ns}/deployments/web`);
    const ours = {
      ns,
      user: id.user,
      code: r.code,
      ms: r.ms,
      peakRssKb: r.peakRssKb,
      rolledBack,
      imageAfter: live.spec.template.spec.containers[0].image,
      detectToExitMs: seen.podFailure === undefined ? undefined : r.endedAt - seen.podFailure,
      disrupted: disrupted(r.startedAt, r.endedAt),
    };

    const kns = await newNamespace(`krollback${rep}`);
    const setupId = ids.get('krollback-setup');
    const setup = await kubectl(setupId, ['apply', '-n', kns, '-f', objectsDir(good)]);
    if (setup.code !== 0) fail('kubectl apply (rollback set-up)', setup);
    const setupWait = await kubectl(setupId, ['rollout', 'status', '-n', kns, 'deployment/web', '--timeout=120s']);
    if (setupWait.code !== 0) fail('kubectl rollout status (rollback set-up)', setupWait);
    const broken = objectsDir(good, (o) => {
      if (o.kind !== 'Deployment') return o;
      o.spec.progressDeadlineSeconds = 30;
      o.spec.template.spec.containers[0].image = UNPULLABLE;
      return o;
    });
    const step: Record<string, ProcessResult> = {};
    const users: Record<string, string> = {};
    const stepRun = async (name: string, args: string[], expected: number | 'nonzero' = 0) => {
      const sid = ids.get(`krollback-${name}-${rep}`);
      users[name] = sid.user;
      const x = await kubectl(sid, args);
      if (x.code !== expected && !(expected === 'nonzero' && x.code !== 0)) fail(`kubectl ${name}`, x);
      step[name] = x;
      return x;
    };
    const applied = await stepRun('apply', ['apply', '-n', kns, '-f', broken]);
    const failed = await stepRun(
      'status-fail',
      ['rollout', 'status', '-n', kns, 'deployment/web', '--timeout=120s'],
      'nonzero',
    );
    await stepRun('undo', ['rollout', 'undo', '-n', kns, 'deployment/web']);
    const restored = await stepRun('status', ['rollout', 'status', '-n', kns, 'deployment/web', '--timeout=120s']);
    const klive = await api.ok('GET', `/apis/apps/v1/namespaces/${kns}/deployments/web`);
    const theirs = {
      ns: kns,
      users,
      ms: restored.endedAt - applied.startedAt,
      stepsMs: Object.fromEntries(Object.entries(step).map(([k, x]) => [k, x.ms])),
      failMessage: failed.stderr.trim().split('\n').at(-1)?.slice(0, 200),
      imageAfter: klive.spec.template.spec.containers[0].image,
      disrupted: disrupted(applied.startedAt, restored.endedAt),
    };
    reps.push({ ours, theirs });
    say(
      `rollback rep ${rep}: ours exit ${r.code} in ${Math.round(r.ms)} ms (${rolledBack}), ` +
        `kubectl 4 steps ${Math.round(theirs.ms)} ms`,
    );
  }
  return reps;
}

// 6c. a release with a StatefulSet `db` (headless Service, a claim template) and a Job `migrate` beside the app
const workloadsYaml = [
  [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    '  name: db',
    'spec:',
    '  clusterIP: None',
    '  selector:',
    '    app.kubernetes.io/name: db',
    '  ports:',
    '    - port: 5432',
  ],
  [
    'apiVersion: apps/v1',
    'kind: StatefulSet',
    'metadata:',
    '  name: db',
    'spec:',
    '  serviceName: db',
    '  replicas: 1',
    '  selector:',
    '    matchLabels:',
    '      app.kubernetes.io/name: db',
    '  template:',
    '    metadata:',
    '      labels:',
    '        app.kubernetes.io/name: db',
    '    spec:',
    '      containers:',
    '        - name: postgres',
    '          image: registry.example.com/bench/postgres:13',
    '          ports:',
    '            - containerPort: 5432',
    '          volumeMounts:',
    '            - name: data',
    '              mountPath: /var/lib/postgresql/data',
    '  volumeClaimTemplates:',
    '    - metadata:',
    '        name: data',
    '      spec:',
    '        accessModes: [ReadWriteOnce]',
    '        resources:',
    '          requests:',
    '            storage: 1Gi',
  ],
  [
    'apiVersion: batch/v1',
    'kind: Job',
    'metadata:',
    '  name: migrate',
    'spec:',
    '  backoffLimit: 0',
    '  template:',
    '    spec:',
    '      restartPolicy: Never',
    '      containers:',
    '        - name: migrate',
    '          image: registry.example.com/bench/migrate:1.0',
    '          args: [migrate, up]',
  ],
]
  .map((lines) => `${lines.join('\n')}\n`)
  .join('---\n');

async function benchWorkloads(appManifests: string): Promise<WorkloadsRep[]> {
  const reps: WorkloadsRep[] = [];
  for (let rep = 1; rep <= LIFECYCLE_REPS; rep++) {
    const ns = await newNamespace(`wl${rep}`);
    const sources = mkdtempSync(join(work, 'sources-'));
    writeFileSync(join(sources, 'workloads.yml'), workloadsYaml);
    const id = ids.get(`workloads-${rep}`);
    const r = await run(assets('out'), [sources], {
      input: request(id, ns, 'web', {
        image_ref: GOOD,
        replicas: 2,
        host: 'web.bench.local',
        ingress_class: 'traefik',
        manifests: ['workloads.yml'],
        timeout: '2m',
      }),
      env: concourseEnv(),
      rss: true,
    });
    if (r.code !== 0) fail('workloads put', r);
    const ours = { ns, user: id.user, ms: r.ms, peakRssKb: r.peakRssKb, disrupted: disrupted(r.startedAt, r.endedAt) };
    // the kubectl way: the same app objects (section 2's manifests.yml) + the same workloads, then four waits
    const kns = await newNamespace(`kwl${rep}`);
    const dir = objectsDir(`${appManifests}\n---\n${workloadsYaml}`);
    const users: Record<string, string> = {};
    const step: Record<string, ProcessResult> = {};
    const steps: [string, string[]][] = [
      ['apply', ['apply', '-n', kns, '-f', dir]],
      ['status-db', ['rollout', 'status', '-n', kns, 'statefulset/db', '--timeout=120s']],
      ['status-web', ['rollout', 'status', '-n', kns, 'deployment/web', '--timeout=120s']],
      ['wait-migrate', ['wait', '-n', kns, '--for=condition=complete', 'job/migrate', '--timeout=120s']],
    ];
    for (const [name, args] of steps) {
      const sid = ids.get(`kwl-${name}-${rep}`);
      users[name] = sid.user;
      const result = await kubectl(sid, args);
      if (result.code !== 0) fail(`kubectl ${name}`, result);
      step[name] = result;
    }
    const runs = Object.values(step);
    const startedAt = runs[0]!.startedAt;
    const endedAt = runs.at(-1)!.endedAt;
    const theirs = {
      ns: kns,
      users,
      ms: endedAt - startedAt,
      stepsMs: Object.fromEntries(Object.entries(step).map(([k, x]) => [k, x.ms])),
      disrupted: disrupted(startedAt, endedAt),
    };
    reps.push({ ours, theirs });
    say(`workloads rep ${rep}: ours ${Math.round(r.ms)} ms, kubectl apply + 3 waits ${Math.round(theirs.ms)} ms`);
  }
  return reps;
}

// 6d. sweep of SWEEP_N per-build namespaces (records aged 2 h) with one put; the kubectl way deletes as many namespaces
// holding the same objects, one `kubectl delete namespace --wait` each in a bash loop (no ownership check at all)
const SWEEP_N = Number(env.BENCH_SWEEP_N ?? 20);

/** Moves every record of `app` in `namespace` back by ageMs, as test/integration/sweep.test.ts's age() does. */
async function ageRecords(namespace: string, app: string, ageMs: number): Promise<number> {
  const list = await api.ok(
    'GET',
    `/api/v1/namespaces/${namespace}/secrets?labelSelector=` +
      encodeURIComponent(`kubernetes-deploy-resource.io/release=${app}`),
  );
  for (const secret of list.items) {
    const record = JSON.parse(gunzipSync(Buffer.from(secret.data.release, 'base64')).toString('utf8'));
    record.createdAt = new Date(Date.now() - ageMs).toISOString();
    secret.data.release = gzipSync(Buffer.from(JSON.stringify(record), 'utf8')).toString('base64');
    await api.ok('PUT', `/api/v1/namespaces/${namespace}/secrets/${secret.metadata.name}`, secret);
  }
  return list.items.length;
}

async function benchSweep(appManifests: string): Promise<SweepResult> {
  const app = `sweep${runId}`;
  const mine = Array.from({ length: SWEEP_N }, (_, i) => `kdr-bench-${runId}-sw${i + 1}`);
  namespaces.push(...mine); // cleaned up with the rest if the sweep leaves any
  const t0 = performance.now();
  await pool(mine, CONCURRENCY, async (ns, i) => {
    const sources = mkdtempSync(join(work, 'sources-'));
    const r = await run(assets('out'), [sources], {
      input: request(ids.get('sweep-setup'), ns, app, {
        image_ref: GOOD,
        replicas: 1,
        host: `b${i + 1}.bench.local`,
        create_namespace: true,
      }),
      env: concourseEnv({ BUILD_NAME: String(i + 1) }),
      timeoutMs: 240_000,
    });
    if (r.code !== 0) fail(`sweep set-up put ${ns}`, r);
    if ((await ageRecords(ns, app, 2 * 3_600_000)) === 0) throw new Error(`sweep set-up: no record of ${app} in ${ns}`);
  });
  say(`sweep: ${SWEEP_N} releases deployed and aged in ${Math.round(performance.now() - t0)} ms`);
  const id = ids.get('sweep');
  const { cluster_url, cluster_ca, admin_cert, admin_key } = id.source;
  const r = await run(assets('out'), [mkdtempSync(join(work, 'sources-'))], {
    input: JSON.stringify({
      source: { cluster_url, cluster_ca, admin_cert, admin_key, app },
      params: { sweep: { older_than: '1h' }, timeout: '10m' },
    }),
    env: concourseEnv(),
    rss: true,
    timeoutMs: 660_000,
  });
  if (r.code !== 0) fail('sweep put', r);
  const meta = metadataOf(r.stdout);
  const swept = !meta.swept || meta.swept === 'nothing' ? [] : meta.swept.split(', ');
  const left = (await Promise.all(mine.map((ns) => api.request('GET', `/api/v1/namespaces/${ns}`)))).filter(
    (x) => x.status !== 404,
  ).length;
  const ours = {
    user: id.user,
    ms: r.ms,
    peakRssKb: r.peakRssKb,
    swept: swept.length,
    all: mine.every((ns) => swept.includes(ns)),
    namespacesLeft: left,
    disrupted: disrupted(r.startedAt, r.endedAt),
  };
  say(`sweep: ours ${swept.length} namespaces in ${Math.round(r.ms)} ms (${left} still present after exit)`);

  // the kubectl way: the same objects in SWEEP_N namespaces (set up with kubectl, not measured), then the loop
  const kmine = Array.from({ length: SWEEP_N }, (_, i) => `kdr-bench-${runId}-ksw${i + 1}`);
  namespaces.push(...kmine);
  const dir = objectsDir(appManifests);
  const setupId = ids.get('ksweep-setup');
  await pool(kmine, CONCURRENCY, async (ns) => {
    await api.createNamespace(ns, { 'kdr-bench-run': runId });
    const a = await kubectl(setupId, ['apply', '-n', ns, '-f', dir]);
    if (a.code !== 0) fail('kubectl apply (sweep set-up)', a);
    const s = await kubectl(setupId, ['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=120s']);
    if (s.code !== 0) fail('kubectl rollout status (sweep set-up)', s);
  });
  const kid = ids.get('ksweep');
  const cacheDir = mkdtempSync(join(work, 'kubectl-cache-'));
  const script =
    'for ns in "$@"; do ' +
    'kubectl --kubeconfig "$KC" --cache-dir "$CD" delete namespace "$ns" --wait --timeout=120s || exit 1; ' +
    'done';
  const k = await run('/bin/bash', ['-c', script, 'loop', ...kmine], {
    env: scriptEnv({ KC: kid.kubeconfig, CD: cacheDir }),
    timeoutMs: 900_000,
  });
  if (k.code !== 0) fail('kubectl delete namespace loop', k);
  const theirs = { user: kid.user, ms: k.ms, namespaces: kmine.length, disrupted: disrupted(k.startedAt, k.endedAt) };
  say(`sweep: kubectl loop ${kmine.length} namespaces in ${Math.round(k.ms)} ms`);
  return { n: SWEEP_N, app, ours, theirs, setupUser: ids.get('sweep-setup').user };
}

// ---------------------------------------------------------------------------------------------------------------------
// 4. scale: N releases deployed, then torn down, in one namespace; sequential and bounded-concurrent puts
async function benchScale(): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  const modes: [string, number][] = [
    ['sequential', 1],
    [`${CONCURRENCY} at once`, CONCURRENCY],
  ];
  for (const [mode, limit] of modes) {
    for (const n of SCALE) {
      const elapsed = performance.now() - benchStarted;
      // a conservative guess of this step's cost from the fastest per-release time seen so far
      const perRelease = rows
        .filter(scaleRan)
        .filter((r) => r.limit === limit)
        .map((r) => (r.deploy.wallMs + r.teardown.wallMs) / r.n);
      const guess = (perRelease.length ? Math.min(...perRelease) : 3000) * n;
      if (elapsed + guess > BUDGET_MS) {
        rows.push({
          mode,
          limit,
          n,
          skipped:
            `skipped: would end after the ${BUDGET_MS / 1000} s budget ` +
            `(${Math.round(elapsed / 1000)} s used, ~${Math.round(guess / 1000)} s needed)`,
        });
        say(`scale ${mode} N=${n}: skipped (budget)`);
        continue;
      }
      const ns = await newNamespace(`s${limit}n${n}`);
      const apps = Array.from({ length: n }, (_, i) => `r${i + 1}`);
      const phase = async (
        what: string,
        params: (app: string, i: number) => Record<string, unknown>,
      ): Promise<ScalePhase> => {
        // one identity per put, so the audit log gives each release's requests exactly
        const prefix = `scale-c${limit}-n${n}-${what}`;
        const idOf = apps.map((app) => ids.get(`${prefix}-${app}`));
        const t0 = performance.now();
        const runs = await pool(apps, limit, async (app, i) => {
          const sources = mkdtempSync(join(work, 'sources-'));
          const r = await run(assets('out'), [sources], {
            input: request(idOf[i]!, ns, app, params(app, i)),
            env: concourseEnv({ BUILD_NAME: String(i + 1) }),
            rss: true,
            timeoutMs: 240_000,
          });
          rmSync(sources, { recursive: true, force: true });
          if (r.code !== 0) fail(`scale ${what} ${app}`, r);
          return r;
        });
        const wallMs = performance.now() - t0;
        const per = runs.map((r) => r.ms);
        return {
          userPrefix: `kdr-bench-${runId}-${prefix}-`,
          wallMs,
          perReleaseMs: wallMs / n,
          putMs: stats(per),
          peakRssKb: Math.max(...runs.map((r) => r.peakRssKb ?? 0)) || undefined,
          disruptedPuts: runs.filter((r) => disrupted(r.startedAt, r.endedAt)).length,
          load1: os.loadavg()[0] ?? Number.NaN,
        };
      };
      const deploy = await phase('deploy', (app, i) => ({
        image_ref: `registry.example.com/bench/app-${i + 1}:1.0`,
        replicas: 1,
        host: `${app}.bench.local`,
      }));
      const teardown = await phase('teardown', () => ({ delete: true }));
      await api.deleteNamespaces([ns]);
      rows.push({ mode, limit, n, ns, deploy, teardown });
      say(
        `scale ${mode} N=${n}: deploy ${Math.round(deploy.perReleaseMs)} ms/release, ` +
          `teardown ${Math.round(teardown.perReleaseMs)} ms/release`,
      );
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------------------
// 5. sizes: bundles, metafile, image
function sizes(): Sizes {
  const bundles = {
    check: statSync(assets('lib/check.cjs')).size,
    in: statSync(assets('lib/in.cjs')).size,
    out: statSync(assets('lib/out.cjs')).size,
  };
  const sideModules = Object.fromEntries(sideModuleNames.map((n) => [n, statSync(assets(`lib/${n}.cjs`)).size]));
  const meta = JSON.parse(readFileSync(assets('meta.json'), 'utf8')) as Record<
    string,
    { outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }> }
  >;
  const inputsOf = (name: ScriptName) => {
    const output = Object.values(meta[name]?.outputs ?? {})[0];
    return Object.entries(output?.inputs ?? {}).map(([path, v]) => ({ path, bytes: v.bytesInOutput }));
  };
  const checkInputs = inputsOf('check').sort((a, b) => b.bytes - a.bytes);
  const packageOf = (path: string) => {
    const m = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g);
    return m ? m.at(-1)!.replace('node_modules/', '') : path.startsWith('src/') ? '(our src/)' : '(other)';
  };
  const byPackage: Record<string, number> = {};
  for (const input of checkInputs)
    byPackage[packageOf(input.path)] = (byPackage[packageOf(input.path)] ?? 0) + input.bytes;
  let image: Sizes['image'];
  const tools: [string, string[]][] = [
    ['podman', []],
    ['buildah', ['--storage-driver', 'overlay']],
  ];
  for (const [tool, toolArgs] of tools) {
    try {
      const inspect = (ref: string) =>
        JSON.parse(
          execFileSync(tool, [...toolArgs, 'image', 'inspect', ref], {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'ignore'],
            timeout: 20_000,
          }),
        )[0] as KubeObject;
      const img = inspect('localhost/kubernetes-deploy-resource:dev');
      const labels = img.Labels ?? img.Config?.Labels ?? img.OCIv1?.config?.Labels ?? {};
      let baseName: string | undefined = labels['org.opencontainers.image.base.name'];
      let base: KubeObject | undefined;
      for (const candidate of [
        baseName,
        'localhost/kdr-base/node:24.21.0-bookworm-slim',
        'docker.io/library/node:24.21.0-bookworm-slim',
      ].filter((name): name is string => Boolean(name))) {
        try {
          base = inspect(candidate);
          baseName = candidate;
          break;
        } catch {
          // not here
        }
      }
      const size = (i: KubeObject | undefined): number | undefined => i?.Size ?? i?.VirtualSize;
      image = {
        tool,
        name: 'localhost/kubernetes-deploy-resource:dev',
        bytes: size(img),
        created: img.Created,
        baseName,
        baseBytes: size(base),
      };
      break;
    } catch {
      // try the next tool
    }
  }
  return {
    bundles,
    sideModules,
    checkTop: checkInputs.slice(0, 10),
    byPackage: Object.entries(byPackage).sort((a, b) => b[1] - a[1]),
    image,
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// BENCH_ONLY=prune,rollback,workloads,sweep (any of put, check, fail, scale too) runs those sections alone, for
// iterating: it prints their part of the report and writes no RESULTS.md (that comes from a full run only).
const ONLY = env.BENCH_ONLY ? new Set(env.BENCH_ONLY.split(',').map((x) => x.trim())) : undefined;
const want = (section: string) => !ONLY || ONLY.has(section);
try {
  const machineInfo = machine();
  results.machine = machineInfo;
  say(`run ${runId} on ${machineInfo.nproc} cores, node ${machineInfo.node}, load ${machineInfo.loadStart}`);
  // the put runs always (check and the lifecycle sections use its release and its manifests.yml); alone: one rep
  const put = await benchPut(want('put') ? PUT_REPS : 1);
  results.put = put;
  if (want('check')) {
    say('put done; check cold start');
    results.check = await benchCheck(put.checkNamespace);
    say(`check: median ${results.check.stats.check?.median.toFixed(0)} ms; failure detection`);
  }
  if (want('fail')) {
    results.failOurs = await benchFailOurs();
    results.recovery = await benchRecovery();
    // kubectl's failure run waits ~30 s for the progress deadline; it runs alone (overlapping the scale runs, the
    // controller-manager's progress check came late)
    results.failKubectl = await benchFailKubectl();
    say(`kubectl failure: exit ${results.failKubectl.code} after ${Math.round(results.failKubectl.ms)} ms`);
  }
  if (want('scale')) results.scale = await benchScale();
  // after scale: scale's budget counts from the start of the run
  if (want('prune')) results.prune = await benchPrune();
  if (want('rollback')) results.rollback = await benchRollback();
  if (want('workloads')) results.workloads = await benchWorkloads(put.manifests);
  if (want('sweep')) results.sweep = await benchSweep(put.manifests);
  results.sizes = sizes();
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
