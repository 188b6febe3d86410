// npm run bench (bench/run.ts), section 6a: prune put: a release with 2 extra ConfigMaps, re-put without one (prune on:
// the default).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import type { KubeObject } from './cluster.js';
import { run } from './proc.js';
import type { PruneRep } from './results.js';
import { concourseEnv, fail, metadataOf, request, type BenchRun } from './run-context.js';
import { configMap, GOOD, LIFECYCLE_REPS, manifestsOf, objectsDir } from './run-lifecycle.js';

/** The kubectl way of the prune put: `before` applied, then `after` with --prune by the release's labels. */
async function kubectlPrune(bench: BenchRun, rep: number, before: string, after: string): Promise<PruneRep['theirs']> {
  const { api, ids, newNamespace, kubectl, disrupted } = bench;
  const labels = (yaml.loadAll(after) as (KubeObject | null)[]).find((o) => o?.kind === 'ConfigMap')?.metadata.labels;
  const selector = ['app.kubernetes.io/instance', 'app.kubernetes.io/managed-by']
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
  const kns = await newNamespace(`kprune${rep}`);
  const setup = await kubectl(ids.get('kprune-setup'), ['apply', '-n', kns, '-f', objectsDir(bench, before)]);
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
    objectsDir(bench, after),
  ]);
  if (a.code !== 0) fail('kubectl apply --prune', a);
  const s = await kubectl(rolloutId, ['rollout', 'status', '-n', kns, 'deployment/web', '--timeout=120s']);
  if (s.code !== 0) fail('kubectl rollout status (prune)', s);
  const kgone = (await api.request('GET', `/api/v1/namespaces/${kns}/configmaps/web-extra-b`)).status === 404;
  return {
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
  };
}

export async function benchPrune(bench: BenchRun): Promise<PruneRep[]> {
  const { api, ids, work, assets, newNamespace, disrupted, say } = bench;
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
    const before = await manifestsOf(bench, ns, 'web', JSON.parse(first.stdout).version);
    const after = await manifestsOf(bench, ns, 'web', JSON.parse(r.stdout).version);
    const theirs = await kubectlPrune(bench, rep, before, after);
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
      theirs,
    });
    say(
      `prune rep ${rep}: ours ${Math.round(r.ms)} ms (pruned ${pruned}), kubectl apply --prune + rollout status ` +
        `${Math.round(reps.at(-1)?.theirs.ms ?? Number.NaN)} ms`,
    );
  }
  return reps;
}
