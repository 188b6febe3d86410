// npm run bench (bench/run.ts), section 6d: sweep of SWEEP_N per-build namespaces (records aged 2 h) with one put; the
// kubectl way deletes as many namespaces holding the same objects, one `kubectl delete namespace --wait` each in a bash
// loop (no ownership check at all).
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { pool, run, scriptEnv } from './proc.js';
import type { SweepResult } from './results.js';
import { CONCURRENCY, concourseEnv, fail, metadataOf, type BenchRun } from './run-context.js';
import { GOOD, objectsDir } from './run-lifecycle.js';

const SWEEP_N = Number(process.env.BENCH_SWEEP_N ?? 20);

/** Moves every record of `app` in `namespace` back by ageMs, as test/integration/sweep.test.ts's age() does. */
async function ageRecords(bench: BenchRun, namespace: string, app: string, ageMs: number): Promise<number> {
  const { api } = bench;
  const list = await api.ok(
    'GET',
    `/api/v1/namespaces/${namespace}/secrets?labelSelector=` +
      encodeURIComponent(`kubernetes-deploy-resource.io/release=${app}`),
  );
  for (const secret of list.items) {
    // The last-put stamp a sweep counts a release's age from.
    secret.metadata.annotations = {
      ...secret.metadata.annotations,
      'kubernetes-deploy-resource.io/last-put': new Date(Date.now() - ageMs).toISOString(),
    };
    await api.ok('PUT', `/api/v1/namespaces/${namespace}/secrets/${secret.metadata.name}`, secret);
  }
  return list.items.length;
}

/** The kubectl way of the sweep: as many namespaces holding the same objects, deleted one by one in a bash loop. */
async function kubectlSweep(bench: BenchRun, appManifests: string): Promise<SweepResult['theirs']> {
  const { api, ids, runId, namespaces, work, kubectl, disrupted, say } = bench;
  const kmine = Array.from({ length: SWEEP_N }, (_, i) => `kdr-bench-${runId}-ksw${i + 1}`);
  namespaces.push(...kmine);
  const dir = objectsDir(bench, appManifests);
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
  return theirs;
}

export async function benchSweep(bench: BenchRun, appManifests: string): Promise<SweepResult> {
  const { api, ids, runId, namespaces, work, assets, disrupted, say } = bench;
  const app = `sweep${runId}`;
  const mine = Array.from({ length: SWEEP_N }, (_, i) => `kdr-bench-${runId}-sw${i + 1}`);
  namespaces.push(...mine); // cleaned up with the rest if the sweep leaves any
  const t0 = performance.now();
  await pool(mine, CONCURRENCY, async (ns, i) => {
    const sources = mkdtempSync(join(work, 'sources-'));
    const r = await run(assets('out'), [sources], {
      // The namespace as a param, the source's the same as the sweep's: one resource, one sweep scope.
      input: JSON.stringify({
        source: { ...ids.get('sweep-setup').source, app },
        params: {
          namespace: ns,
          image_ref: GOOD,
          replicas: 1,
          host: `b${i + 1}.bench.local`,
          create_namespace: true,
        },
      }),
      env: concourseEnv({ BUILD_NAME: String(i + 1) }),
      timeoutMs: 240_000,
    });
    if (r.code !== 0) fail(`sweep set-up put ${ns}`, r);
    if ((await ageRecords(bench, ns, app, 2 * 3_600_000)) === 0)
      throw new Error(`sweep set-up: no record of ${app} in ${ns}`);
  });
  say(`sweep: ${SWEEP_N} releases deployed and aged in ${Math.round(performance.now() - t0)} ms`);
  const id = ids.get('sweep');
  const { cluster_url, cluster_ca, admin_cert, admin_key } = id.source;
  const r = await run(assets('out'), [mkdtempSync(join(work, 'sources-'))], {
    input: JSON.stringify({
      source: { cluster_url, cluster_ca, admin_cert, admin_key, app },
      params: { sweep: { older_than: '1h', namespace_prefix: `kdr-bench-${runId}-sw` }, timeout: '10m' },
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
  const theirs = await kubectlSweep(bench, appManifests);
  return { n: SWEEP_N, app, ours, theirs, setupUser: ids.get('sweep-setup').user };
}
