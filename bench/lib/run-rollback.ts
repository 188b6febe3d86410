// npm run bench (bench/run.ts), section 6b: rollback: good → unpullable with on_failure: rollback (exit 5, back on the
// good revision); the kubectl way is apply + rollout status (fails at the progress deadline, 30 s here as in section
// 3) + rollout undo + rollout status.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { run, sleep, type ProcessResult } from './proc.js';
import type { RollbackRep } from './results.js';
import { concourseEnv, fail, request, type BenchRun } from './run-context.js';
import { GOOD, manifestsOf, objectsDir, UNPULLABLE } from './run-lifecycle.js';

/**
 * The kubectl way of the rollback: the good revision set up, then apply of the broken one + rollout status (fails at
 * the progress deadline) + rollout undo + rollout status.
 */
async function kubectlRollback(bench: BenchRun, rep: number, good: string): Promise<RollbackRep['theirs']> {
  const { api, ids, newNamespace, kubectl, disrupted } = bench;
  const kns = await newNamespace(`krollback${rep}`);
  const setupId = ids.get('krollback-setup');
  const setup = await kubectl(setupId, ['apply', '-n', kns, '-f', objectsDir(bench, good)]);
  if (setup.code !== 0) fail('kubectl apply (rollback set-up)', setup);
  const setupWait = await kubectl(setupId, ['rollout', 'status', '-n', kns, 'deployment/web', '--timeout=120s']);
  if (setupWait.code !== 0) fail('kubectl rollout status (rollback set-up)', setupWait);
  const broken = objectsDir(bench, good, (o) => {
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
  return theirs;
}

export async function benchRollback(bench: BenchRun): Promise<RollbackRep[]> {
  const { api, ids, work, assets, newNamespace, observe, disrupted, say } = bench;
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
    const good = await manifestsOf(bench, ns, 'web', JSON.parse(first.stdout).version);
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

    const theirs = await kubectlRollback(bench, rep, good);
    reps.push({ ours, theirs });
    say(
      `rollback rep ${rep}: ours exit ${r.code} in ${Math.round(r.ms)} ms (${rolledBack}), ` +
        `kubectl 4 steps ${Math.round(theirs.ms)} ms`,
    );
  }
  return reps;
}
