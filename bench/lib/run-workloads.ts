// npm run bench (bench/run.ts), section 6c: a release with a StatefulSet `db` (headless Service, a claim template) and
// a Job `migrate` beside the app.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type ProcessResult } from './proc.js';
import type { WorkloadsRep } from './results.js';
import { concourseEnv, fail, request, type BenchRun } from './run-context.js';
import { GOOD, LIFECYCLE_REPS, objectsDir } from './run-lifecycle.js';

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

export async function benchWorkloads(bench: BenchRun, appManifests: string): Promise<WorkloadsRep[]> {
  const { ids, work, assets, newNamespace, kubectl, disrupted, say } = bench;
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
    const dir = objectsDir(bench, `${appManifests}\n---\n${workloadsYaml}`);
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
