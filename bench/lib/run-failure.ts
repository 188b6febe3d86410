// npm run bench (bench/run.ts), section 3: failure detection (an unpullable image), and the recovery put after it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, sleep } from './proc.js';
import type { FailRun, KubectlFailRun, RecoveryRun } from './results.js';
import { concourseEnv, fail, FAIL_REPS, lastErrorLine, request, type BenchRun } from './run-context.js';

export async function benchFailOurs(bench: BenchRun): Promise<FailRun[]> {
  const { ids, work, assets, newNamespace, observe, disrupted, say } = bench;
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
export async function benchRecovery(bench: BenchRun): Promise<RecoveryRun[]> {
  const { ids, work, assets, newNamespace, observe, disrupted, say } = bench;
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

export async function benchFailKubectl(bench: BenchRun): Promise<KubectlFailRun> {
  const { ids, work, newNamespace, observe, kubectl, disrupted } = bench;
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
