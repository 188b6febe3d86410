// Helpers for tests that talk to the test cluster (brought up by test/support/global-setup.ts).
//
// The cluster is described by two files, a contract with scripts/cluster/up.sh:
//   a kubeconfig (admin) and source.json (the resource's source fields: cluster_url, cluster_ca,
//   admin_cert, admin_key, base64 as a user would paste them).
// By default both are in .cluster/; KDR_TEST_KUBECONFIG and KDR_TEST_SOURCE point at another cluster's.

import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach } from 'vitest';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const clusterDir = join(repoRoot, '.cluster');
export const kubeconfigPath = resolve(process.env.KDR_TEST_KUBECONFIG || join(clusterDir, 'kubeconfig'));
export const sourcePath = resolve(process.env.KDR_TEST_SOURCE || join(clusterDir, 'source.json'));
/** The audit log of the local test cluster (Metadata level, every request; JSON lines). */
export const auditLogPath = join(clusterDir, 'logs', 'audit.log');
/**
 * The kubectl used for cross-checks: KUBECTL when set, else the one scripts/cluster/up.sh built from the same
 * Kubernetes version as the test cluster (its .cluster/env names it: never outside kubectl's ±1 version skew), else the
 * machine's.
 */
export const kubectlBin = process.env.KUBECTL || clusterEnv().KUBECTL || 'kubectl';

/** The facts scripts/cluster/up.sh wrote to .cluster/env (KEY=VALUE lines); empty before the cluster is up. */
export function clusterEnv(): Record<string, string> {
  const file = join(clusterDir, 'env');
  if (usingExternalCluster() || !existsSync(file)) return {};
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

export function usingExternalCluster(): boolean {
  const kubeconfig = Boolean(process.env.KDR_TEST_KUBECONFIG);
  const source = Boolean(process.env.KDR_TEST_SOURCE);
  if (kubeconfig !== source) throw new Error('set both KDR_TEST_KUBECONFIG and KDR_TEST_SOURCE, or neither');
  return kubeconfig;
}

/** The resource's source fields for the test cluster (cluster_url, cluster_ca, admin_cert, admin_key). */
export interface ClusterSource {
  cluster_url: string;
  cluster_ca?: string;
  admin_cert?: string;
  admin_key?: string;
  token?: string;
  [field: string]: unknown;
}

export function readSource(): ClusterSource {
  const source = JSON.parse(readFileSync(sourcePath, 'utf8')) as ClusterSource;
  if (typeof source.cluster_url !== 'string') throw new Error(`${sourcePath}: no cluster_url`);
  return source;
}

/**
 * A bearer token for a user with no rights beyond system:authenticated (for RBAC tests):
 * KDR_TEST_RBAC_TOKEN, else the local cluster's .cluster/rbac-token (user `rbac-test`).
 */
export function rbacToken(): string | undefined {
  if (process.env.KDR_TEST_RBAC_TOKEN) return process.env.KDR_TEST_RBAC_TOKEN;
  const file = join(clusterDir, 'rbac-token');
  return !usingExternalCluster() && existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  namespace?: string;
  /** Kill kubectl after this long (default 60 s). */
  timeoutMs?: number;
  /** Resolve with the result instead of throwing when kubectl exits non-zero. */
  allowFailure?: boolean;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the machine's kubectl against the test cluster (`--kubeconfig` is always passed). */
export function kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  const fullArgs = ['--kubeconfig', kubeconfigPath, ...(opts.namespace ? ['-n', opts.namespace] : []), ...args];
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      kubectlBin,
      fullArgs,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        const result = { code, stdout, stderr };
        if (code !== 0 && !opts.allowFailure) {
          const why = error?.killed ? `killed after ${opts.timeoutMs ?? 60_000} ms` : `exit ${code}`;
          reject(new Error(`kubectl ${args.join(' ')}: ${why}\n${stderr}${stdout}`));
        } else resolvePromise(result);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** `kubectl ... -o json`, parsed. */
export async function kubectlJson<T = any>(args: string[], opts: KubectlOptions = {}): Promise<T> {
  const { stdout } = await kubectl([...args, '-o', 'json'], opts);
  return JSON.parse(stdout) as T;
}

/** Polls `check` until it returns a truthy value (returned), or throws after timeoutMs. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 30_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A fresh namespace name: `<prefix>-<time>-<random>`, a valid DNS label. */
export function uniqueNamespaceName(prefix = 'kdr-test'): string {
  const suffix = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  return `${prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 40)}-${suffix}`;
}

export async function createNamespace(name: string): Promise<void> {
  await kubectl(['create', 'namespace', name]);
}

/**
 * Deletes a namespace and waits (bounded) for it to be gone. Returns whether it went; a namespace
 * still Terminating after waitMs is left to finish on its own rather than blocking the test run.
 * waitMs 0 only requests the deletion (and returns false).
 */
export async function deleteNamespace(name: string, waitMs = 30_000): Promise<boolean> {
  await kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
  if (waitMs <= 0) return false;
  try {
    await waitFor(
      `namespace ${name} to be deleted`,
      async () => {
        const { code, stderr } = await kubectl(['get', 'namespace', name], { allowFailure: true });
        return code !== 0 && /NotFound/i.test(stderr);
      },
      { timeoutMs: waitMs, intervalMs: 500 },
    );
    return true;
  } catch {
    process.stderr.write(`[cluster] namespace ${name} still terminating after ${waitMs} ms; not waiting longer\n`);
    return false;
  }
}

/**
 * Gives each test in the enclosing describe (or file) its own namespace: created before each test,
 * deleted after it. Read `.name` inside the test.
 * By default the deletion is only requested, not waited for: kube-controller-manager's namespace
 * controller waits 5 s before it starts on a deleted namespace (as in any cluster), which would add
 * 5 s to every test. Pass deleteWaitMs to wait (bounded) for the namespace to be gone.
 */
export function useNamespace(prefix = 'kdr-test', { deleteWaitMs = 0 } = {}): { readonly name: string } {
  let current: string | undefined;
  beforeEach(async () => {
    current = uniqueNamespaceName(prefix);
    await createNamespace(current);
  });
  afterEach(async () => {
    if (current) await deleteNamespace(current, deleteWaitMs);
    current = undefined;
  });
  return {
    get name(): string {
      if (!current) throw new Error('useNamespace(): the namespace only exists while a test runs');
      return current;
    },
  };
}
