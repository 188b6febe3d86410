// What the sections of `npm run bench` (bench/run.ts, one bench/lib/run-*.ts file per section) share: the settings read
// from the environment, and one run's state (startRun: the cluster client and identities, the private copy of the
// bundles, the namespaces to delete, the results so far) with the helpers every section uses.
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot as root } from '../../test/support/cluster.js';
import { metadataOf as metadataOfResult } from '../../test/support/run-script.js';
import { auditOffset, type AuditOffset } from './audit.js';
import { Api, Identities, readAdminSource, type Identity } from './cluster.js';
import { DisruptionMonitor } from './disruptions.js';
import { KUBECTL } from './machine.js';
import { observe, type Observation } from './observe.js';
import { run, scriptEnv, type ProcessResult, type RunOptions } from './proc.js';
import type { BenchResults, ScriptName } from './results.js';

const env = process.env;
export const ROUNDS = Number(env.BENCH_ROUNDS ?? 15);
export const PUT_REPS = Number(env.BENCH_PUT_REPS ?? 5);
export const FAIL_REPS = Number(env.BENCH_FAIL_REPS ?? 3);
export const SCALE = (env.BENCH_SCALE ?? '10,25,50').split(',').map(Number).filter(Boolean);
export const CONCURRENCY = Number(env.BENCH_CONCURRENCY ?? 4);
export const BUDGET_MS = Number(env.BENCH_BUDGET_S ?? 540) * 1000;
const SCRIPTS: ScriptName[] = ['check', 'in', 'out'];

/** The results so far: each section fills its key (BenchResults says which). */
export type ResultsSoFar = Partial<BenchResults> & Pick<BenchResults, 'runId' | 'started'>;

/** One run of `npm run bench`: what startRun() set up, and the helpers bound to it. */
export interface BenchRun {
  /** performance.now() when the run started: the log's clock, and what scale's budget counts from. */
  started: number;
  runId: string;
  api: Api;
  ids: Identities;
  /** The namespaces cleanup() deletes. */
  namespaces: string[];
  /** A temporary directory, removed by cleanup(). */
  work: string;
  /** The private copy of assets/ the run measures (assets() names a file in it). */
  snapshot: string;
  results: ResultsSoFar;
  /** Where the audit log stood when the run started. */
  offset: AuditOffset;
  monitor: DisruptionMonitor;
  say(message: string): void;
  assets(name: string): string;
  /** Whether an API server outage (someone else's disruptive test) overlapped [from, to]. */
  disrupted(from: number, to: number): boolean;
  newNamespace(label: string): Promise<string>;
  cleanup(): Promise<void>;
  /** A cold kubectl process as the identity: a fresh --cache-dir, as in a fresh container. */
  kubectl(id: Identity, args: string[], options?: RunOptions): Promise<ProcessResult>;
  /** Watches Deployments (and optionally Pods) of a namespace from the bench process (admin identity). */
  observe(namespace: string, options?: { pods?: boolean }): Promise<Observation>;
}

export function startRun(): BenchRun {
  const benchStarted = performance.now();
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
  const results: ResultsSoFar = {
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

  const kubectl = (id: Identity, args: string[], options: RunOptions = {}) => {
    const cacheDir = mkdtempSync(join(work, 'kubectl-cache-'));
    return run(KUBECTL, ['--kubeconfig', id.kubeconfig, '--cache-dir', cacheDir, ...args], {
      env: scriptEnv(),
      ...options,
    }).finally(() => rmSync(cacheDir, { recursive: true, force: true }));
  };

  return {
    started: benchStarted,
    runId,
    api,
    ids,
    namespaces,
    work,
    snapshot,
    results,
    offset,
    monitor,
    say,
    assets,
    disrupted,
    newNamespace,
    cleanup,
    kubectl,
    observe: (namespace, options) => observe(api, namespace, options),
  };
}

export const request = (id: Identity, namespace: string, app: string, params: Record<string, unknown>) =>
  JSON.stringify({ source: { ...id.source, namespace, app }, params });
export const concourseEnv = (extra: Record<string, string> = {}) =>
  scriptEnv({ BUILD_NAME: '1', BUILD_JOB_NAME: 'bench', BUILD_PIPELINE_NAME: 'bench', ...extra });

export { fail } from './proc.js';

/** A put's or get's metadata (Concourse's name/value list), from its stdout. */
export const metadataOf = (stdout: string) => metadataOfResult({ json: JSON.parse(stdout) });

export const lastErrorLine = (stderr: string) => {
  const lines = stderr.trim().split('\n');
  return lines.find((line) => line.startsWith('error: ')) ?? lines.at(-1);
};
