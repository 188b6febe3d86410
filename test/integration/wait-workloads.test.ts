// Every workload of a release is waited for (issue 11, items 2 and 3): StatefulSets, DaemonSets, Jobs — alongside
// the app, or (phase before) to completion before it — against the real controllers; CronJobs are only created.
// Needs the statefulset/daemonset/job/cronjob controllers and the stand-in's Job behaviour (docs/cluster.md).
import { describe, expect, test } from 'vitest';
import { kubectlJson, useNamespace } from '../support/cluster.js';
import { completingJobImage, failingJobImage, readyImage, unpullableImage, type ReadyTag } from '../support/images.js';
import { clusterSource, emptyDir, sourcesDir, tagOnly } from '../support/release.js';
import { lines, runScript, type ScriptResult } from '../support/run-script.js';
import { cronJobYaml, daemonSetYaml, jobYaml, statefulSetYaml } from '../support/workloads.js';

const ownLabels = 'app.kubernetes.io/instance=web,app.kubernetes.io/managed-by=kubernetes-deploy-resource';

describe('every workload of the release', () => {
  const ns = useNamespace('kdr-workloads');
  const put = (
    files: Record<string, string>,
    params: Record<string, unknown> = {},
    tag: ReadyTag = '1',
  ): Promise<ScriptResult> =>
    runScript(
      'out',
      {
        source: clusterSource({ namespace: ns.name }),
        params: { image: 'image', manifests: Object.keys(files), timeout: '2m', ...params },
      },
      {
        dir: sourcesDir(tagOnly(readyImage(tag)), files),
      },
    );
  async function teardown(): Promise<void> {
    const del = await runScript(
      'out',
      { source: clusterSource({ namespace: ns.name }), params: { delete: true } },
      { dir: emptyDir() },
    );
    expect(del.code, del.stderr).toBe(0);
    const left = await kubectlJson(['get', 'deployments,statefulsets,daemonsets,jobs,cronjobs,pods', '-l', ownLabels], {
      namespace: ns.name,
    });
    expect(left.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual([]);
  }

  test(
    'StatefulSet, DaemonSet, Job and CronJob with the app: each waited for as its kind says; ' +
      'a changed re-put rolls the StatefulSet',
    async () => {
      const files = {
        'deps/db.yml': statefulSetYaml('db', readyImage('a').tagRef),
        'deps/agent.yml': daemonSetYaml('agent', readyImage('9').tagRef),
        'deps/seed.yml': jobYaml('seed', completingJobImage().ref),
        'deps/nightly.yml': cronJobYaml('nightly', completingJobImage('2').ref),
      };
      const first = await put(files);
      expect(first.code, first.stderr).toBe(0);
      const log = lines(first.stderr);
      // What is left of the put's one budget (timeout 120s) once the lock is held and everything is applied.
      expect(
        log.some((l) =>
          new RegExp(
            String.raw`^waiting up to (1[01]\d|120)s ` +
              String.raw`for daemonset/agent, statefulset/db, job/seed, cronjob/nightly, deployment/web to roll out$`,
          ).test(l),
        ),
        log.join('\n'),
      ).toBe(true);
      expect(log).toContain(
        'statefulset/db: successfully rolled out (2 of 2 pods ready at revision ' +
          (await kubectlJson(['get', 'statefulset', 'db'], { namespace: ns.name })).status.currentRevision +
          ')',
      );
      expect(log, first.stderr).toContain('daemonset/agent: successfully rolled out (1 of 1 pods available)');
      expect(log).toContain('job/seed: completed (1 of 1 succeeded)');
      expect(log).toContain('cronjob/nightly: created; not waited for (a CronJob runs on its schedule)');
      expect(log).toContain('deployment/web: successfully rolled out (1 of 1 replicas available)');
      // What kubectl says agrees.
      const sts = await kubectlJson(['get', 'statefulset', 'db'], { namespace: ns.name });
      expect(sts.status.readyReplicas).toBe(2);

      const changed = await put({ ...files, 'deps/db.yml': statefulSetYaml('db', readyImage('b').tagRef) });
      expect(changed.code, changed.stderr).toBe(0);
      const rolled = await kubectlJson(['get', 'statefulset', 'db'], { namespace: ns.name });
      expect(rolled.status.currentRevision).toBe(rolled.status.updateRevision);
      expect(lines(changed.stderr)).toContain(
        `statefulset/db: successfully rolled out (2 of 2 pods ready at revision ${rolled.status.updateRevision})`,
      );
      await teardown();
    },
  );

  test(
    'a StatefulSet whose new Pods cannot pull fails with the Pod; OnDelete is not waited for, ' + 'and says why',
    async () => {
      const broken = await put({ 'deps/db.yml': statefulSetYaml('db', unpullableImage().ref, { replicas: 1 }) });
      expect(broken.code, broken.stderr).toBe(5);
      expect(lines(broken.stderr).at(-1)).toMatch(
        /^error: statefulset\/db failed: pod\/db-0 container db: (ErrImagePull|ImagePullBackOff)/,
      );
      await teardown();
      const onDelete = await put({
        'deps/db.yml': statefulSetYaml('db', readyImage('a').tagRef, { strategy: 'OnDelete', replicas: 1 }),
      });
      expect(onDelete.code, onDelete.stderr).toBe(0);
      expect(lines(onDelete.stderr)).toContain(
        'statefulset/db: not waited for: its updateStrategy is OnDelete, so its Pods change only when they are deleted',
      );
      await teardown();
    },
  );

  test(
    'a failing Job: exit 5 with BackoffLimitExceeded, the failed Pods and exit codes; ' +
      'an unpullable Job image fails at once',
    async () => {
      const failing = await put({ 'deps/seed.yml': jobYaml('seed', failingJobImage().ref, { backoffLimit: 1 }) });
      expect(failing.code, failing.stderr).toBe(5);
      const last = lines(failing.stderr).at(-1)!;
      expect(last).toMatch(
        new RegExp(
          String.raw`^error: job/seed failed: BackoffLimitExceeded: Job has reached the specified backoff limit; ` +
            String.raw`failed pods: pod/seed-[a-z0-9]+ \(container seed exit code 1`,
        ),
      );
      expect(last).toContain('; recent events: ');
      await teardown();
      const unpullable = await put({ 'deps/seed.yml': jobYaml('seed', unpullableImage().ref) });
      expect(unpullable.code, unpullable.stderr).toBe(5);
      expect(lines(unpullable.stderr).at(-1)).toMatch(
        /^error: job\/seed failed: pod\/seed-[a-z0-9]+ container seed: (ErrImagePull|ImagePullBackOff)/,
      );
      await teardown();
    },
  );

  test(
    'phase before: the Job completes before the app is applied; ' +
      'a failing one leaves the app untouched and the record failed',
    async () => {
      const ok = await put({ 'deps/migrate.yml': jobYaml('migrate', completingJobImage().ref, { before: true }) });
      expect(ok.code, ok.stderr).toBe(0);
      const log = lines(ok.stderr);
      expect(log.indexOf('job/migrate: completed (1 of 1 succeeded)')).toBeGreaterThan(-1);
      expect(log.indexOf('job/migrate: completed (1 of 1 succeeded)')).toBeLessThan(
        log.indexOf('deployment/web created'),
      );
      const before = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });

      // A new app version whose migration fails: exit 5, the app keeps running the old version, the record says failed.
      const failed = await put(
        { 'deps/migrate.yml': jobYaml('migrate2', failingJobImage('2').ref, { before: true }) },
        {},
        '2',
      );
      expect(failed.code, failed.stderr).toBe(5);
      expect(lines(failed.stderr).at(-1)).toMatch(/^error: job\/migrate2 failed: BackoffLimitExceeded: /);
      expect(failed.stderr).toContain(
        'not applying deployment/web, service/web: job/migrate2 (phase before) did not complete',
      );
      expect(failed.stderr).not.toContain('deployment/web configured');
      const after = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
      expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
      expect(after.spec.template.spec.containers[0].image).toBe(readyImage('1').tagRef);
      const records = await kubectlJson(['get', 'secrets', '-l', 'kubernetes-deploy-resource.io/release=web'], {
        namespace: ns.name,
      });
      const statuses = records.items
        .map(
          (r: { metadata: { labels: Record<string, string> } }) =>
            r.metadata.labels['kubernetes-deploy-resource.io/status'],
        )
        .sort();
      expect(statuses).toEqual(['deployed', 'failed']);
      const check = await runScript('check', { source: clusterSource({ namespace: ns.name }) });
      expect((check.json as { revision: string }[]).map((v) => v.revision)).toEqual(['1']);
      await teardown();
    },
  );

  test('phase before on a first deploy that fails: nothing of the app exists', async () => {
    const failed = await put({ 'deps/migrate.yml': jobYaml('migrate', failingJobImage().ref, { before: true }) });
    expect(failed.code, failed.stderr).toBe(5);
    const app = await kubectlJson(['get', 'deployments,services', '-l', ownLabels], { namespace: ns.name });
    expect(app.items).toEqual([]);
    await teardown();
  });
});

describe('phase before is checked before any cluster call', () => {
  test('on a Deployment: exit 2 naming the object, with a cluster that does not answer', async () => {
    const manifest =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: db\n' +
      '  annotations:\n    kubernetes-deploy-resource.io/phase: before\n';
    const source = { ...clusterSource({ namespace: 'anywhere' }), cluster_url: 'https://127.0.0.1:1' };
    const result = await runScript(
      'out',
      { source, params: { image_ref: readyImage('1').tagRef, manifests: ['db.yml'] } },
      { dir: sourcesDir({ repository: 'x' }, { 'db.yml': manifest }) },
    );
    expect(result.code).toBe(2);
    expect(lines(result.stderr).at(-1)).toBe(
      'error: params.manifests: db.yml document 1 (line 1): deployment/db: ' +
        'annotation kubernetes-deploy-resource.io/phase: before is for Jobs (batch/v1) and for objects with a ' +
        'kubernetes-deploy-resource.io/wait-for annotation only: ' +
        'nothing else has an end to wait for',
    );
  });
});
