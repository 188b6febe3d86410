// Jobs across re-puts and the teardown of a StatefulSet's volumes, against the real cluster, through the compiled
// scripts (as Concourse runs them).
import { describe, expect, test } from 'vitest';
import { kubectl, kubectlJson, useNamespace, waitFor } from '../support/cluster.js';
import { completingJobImage, failingJobImage, hangingImage, readyImage, type ReadyTag } from '../support/images.js';
import { clusterSource, emptyDir, sourcesDir, tagOnly } from '../support/release.js';
import { lines, metadataOf, runScript } from '../support/run-script.js';
import { migrateJobYaml, postgresStatefulSetYaml } from '../support/workloads.js';

// test/fixtures/migrate-job.yml with a Job image that completes, and test/fixtures/postgres-statefulset.yml.
const migrateJob = migrateJobYaml(completingJobImage('1').ref);
const postgres = postgresStatefulSetYaml(readyImage('1').tagRef);

describe('Jobs across re-puts', () => {
  const ns = useNamespace('kdr-jobs');

  const put = (appTag: ReadyTag, job: string, params: Record<string, unknown> = {}) =>
    runScript(
      'out',
      {
        source: clusterSource({ namespace: ns.name }),
        params: { image: 'image', manifests: ['deploy/*.yml'], ...params },
      },
      {
        dir: sourcesDir(tagOnly(readyImage(appTag)), { 'deploy/migrate.yml': job }),
      },
    );
  const readJob = () => kubectlJson(['get', 'job', 'migrate'], { namespace: ns.name });
  const jobPods = async () =>
    (await kubectlJson(['get', 'pods', '-l', 'job-name=migrate'], { namespace: ns.name })).items as any[];
  const complete = () =>
    kubectl(['wait', '--for=condition=complete', 'job/migrate', '--timeout=60s'], {
      namespace: ns.name,
      timeoutMs: 70_000,
    });

  test(
    'an unchanged completed Job is left as it is; a changed one is replaced ' + '(never a 422) and runs again',
    async () => {
      const first = await put('1', migrateJob);
      expect(first.code, first.stderr).toBe(0);
      expect(lines(first.stderr)).toContain('job/migrate created');
      await complete();
      const created = await readJob();
      expect(created.metadata.annotations['kubernetes-deploy-resource.io/job-spec-hash']).toMatch(/^[0-9a-f]{32}$/);

      // The same put again (same revision), then a new app version whose release carries the same Job: not re-run,
      // though its labels (app.kubernetes.io/version) and the release changed.
      for (const tag of ['1', '2'] as const) {
        const again = await put(tag, migrateJob);
        expect(again.code, again.stderr).toBe(0);
        expect(lines(again.stderr)).toContain('job/migrate unchanged and complete: left as it is, not run again');
        expect(lines(again.stderr)).toContain('job/migrate unchanged');
        const job = await readJob();
        expect(job.metadata.uid).toBe(created.metadata.uid);
        expect(job.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
        expect(await jobPods()).toHaveLength(1);
      }

      // The new version's migration: a changed pod template, which the API server would refuse to patch (422).
      const changedImage = completingJobImage('3').ref;
      const changed = await put('3', migrateJobYaml(changedImage));
      expect(changed.code, changed.stderr).toBe(0);
      expect(changed.stderr).not.toMatch(/422|field is immutable|Invalid value/);
      expect(lines(changed.stderr)).toContain(
        "job/migrate: replacing it, its spec changed (a Job's pod template is immutable)",
      );
      expect(lines(changed.stderr)).toContain('job/migrate replaced');
      await complete();
      const replaced = await readJob();
      expect(replaced.metadata.uid).not.toBe(created.metadata.uid);
      expect(replaced.spec.template.spec.containers[0].image).toBe(changedImage);
      expect(replaced.status.succeeded).toBe(1);
      expect(replaced.metadata.labels['app.kubernetes.io/version']).toBe('3');
      // The new Job ran its own Pod (the old one goes with the old Job, in the background).
      await waitFor("only the new Job's Pod", async () => {
        const pods = await jobPods();
        return pods.length === 1 && pods[0].metadata.labels['controller-uid'] === replaced.metadata.uid;
      });

      // And the teardown after it takes the Job and its Pod.
      const del = await runScript(
        'out',
        { source: clusterSource({ namespace: ns.name }), params: { delete: true } },
        { dir: emptyDir() },
      );
      expect(del.code, del.stderr).toBe(0);
      expect(lines(del.stderr)).toContain('job/migrate deleted');
      expect((await kubectlJson(['get', 'jobs,pods'], { namespace: ns.name })).items).toEqual([]);
    },
    240_000,
  );

  test(
    'an unchanged Job that failed runs again on the re-put; ' + 'one without our hash annotation is replaced',
    async () => {
      // A phase-before Job is waited for even with wait: false (README): the put fails with it.
      const failing = migrateJobYaml(failingJobImage('1').ref);
      const first = await put('1', failing, { wait: false });
      expect(first.code, first.stderr).toBe(5);
      expect(lines(first.stderr).at(-1)).toMatch(/^error: job\/migrate failed: BackoffLimitExceeded: /);
      await kubectl(['wait', '--for=condition=failed', 'job/migrate', '--timeout=60s'], {
        namespace: ns.name,
        timeoutMs: 70_000,
      });
      const failed = await readJob();

      const again = await put('1', failing, { wait: false });
      expect(again.code, again.stderr).toBe(5);
      expect(lines(again.stderr)).toContain(
        'job/migrate: replacing it, it failed before (BackoffLimitExceeded): running it again',
      );
      const rerun = await readJob();
      expect(rerun.metadata.uid).not.toBe(failed.metadata.uid);

      // Someone removed the annotation (or an older version of this resource wrote the Job): whether it changed is
      // unknown, so it is replaced rather than patched into a 422.
      await kubectl(['annotate', 'job', 'migrate', 'kubernetes-deploy-resource.io/job-spec-hash-'], {
        namespace: ns.name,
      });
      const fixed = await put('2', migrateJob);
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(lines(fixed.stderr)).toContain(
        'job/migrate: replacing it, it carries no kubernetes-deploy-resource.io/job-spec-hash annotation, ' +
          'so whether it changed is unknown',
      );
      await complete();
      expect((await readJob()).metadata.uid).not.toBe(rerun.metadata.uid);
    },
    240_000,
  );

  test('a Job still running is left running by an unchanged re-put and replaced by a changed one', async () => {
    // A put that timed out waiting for its migration (a phase-before Job is waited for even with wait: false, see the
    // README): the Job is still running.
    const hanging = migrateJobYaml(hangingImage().ref);
    const first = await put('1', hanging, { wait: false, timeout: '8s' });
    expect(first.code, first.stderr).toBe(6);
    expect(lines(first.stderr).at(-1)).toMatch(/^error: timed out after 8\.0s waiting for /);
    const running = await waitFor("the Job's Pod running", async () => {
      const [pod] = await jobPods();
      return pod?.status?.phase === 'Running' && pod;
    });
    const again = await put('1', hanging, { wait: false, timeout: '8s' });
    expect(again.code, again.stderr).toBe(6);
    expect(lines(again.stderr)).toContain('job/migrate unchanged and still running');
    const job = await readJob();
    expect((await jobPods()).map((p) => p.metadata.uid)).toEqual([running.metadata.uid]);

    const fixed = await put('2', migrateJob);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(lines(fixed.stderr)).toContain('job/migrate replaced');
    await complete();
    expect((await readJob()).metadata.uid).not.toBe(job.metadata.uid);
  }, 240_000);
});

describe("teardown of a StatefulSet's volumes", () => {
  const ns = useNamespace('kdr-volumes');

  const put = () =>
    runScript(
      'out',
      { source: clusterSource({ namespace: ns.name }), params: { image: 'image', manifests: ['deploy/*.yml'] } },
      {
        dir: sourcesDir(tagOnly(readyImage('1')), { 'deploy/postgres.yml': postgres }),
      },
    );
  const teardown = (params: Record<string, unknown> = {}) =>
    runScript(
      'out',
      { source: clusterSource({ namespace: ns.name }), params: { delete: true, ...params } },
      { dir: emptyDir() },
    );
  const claims = async () => {
    const items = (await kubectlJson(['get', 'pvc'], { namespace: ns.name })).items as any[];
    return Object.fromEntries(items.map((c) => [c.metadata.name, c]));
  };
  const dbReady = () =>
    kubectl(['rollout', 'status', 'statefulset/db', '--timeout=60s'], { namespace: ns.name, timeoutMs: 70_000 });
  const claim = (name: string, labels: Record<string, string>) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, labels },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });

  test(
    "delete removes the claims of the release's StatefulSets once their Pods are gone; " +
      'keep_volumes keeps them for the next put',
    async () => {
      // Claims that are not the StatefulSet's: the right name without its labels, its labels under another name.
      await kubectl(['apply', '-f', '-'], { namespace: ns.name, input: claim('data-db-7', { team: 'other' }) });
      await kubectl(['apply', '-f', '-'], {
        namespace: ns.name,
        input: claim('scratch', { 'app.kubernetes.io/name': 'postgres' }),
      });

      const first = await put();
      expect(first.code, first.stderr).toBe(0);
      await dbReady();
      const made = (await claims())['data-db-0'];
      expect(made.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'postgres' });

      const kept = await teardown({ keep_volumes: true });
      expect(kept.code, kept.stderr).toBe(0);
      expect(lines(kept.stderr)).toContain(
        "keeping 1 volume claim of the release's StatefulSets (keep_volumes: true): persistentvolumeclaim/data-db-0",
      );
      expect(metadataOf(kept)).toMatchObject({ volumes_kept: 'persistentvolumeclaim/data-db-0' });
      expect(metadataOf(kept).deleted).not.toContain('persistentvolumeclaim');
      expect((await kubectlJson(['get', 'statefulsets,pods'], { namespace: ns.name })).items).toEqual([]);
      const afterKeep = await claims();
      expect(afterKeep['data-db-0'].metadata.uid).toBe(made.metadata.uid);
      expect(afterKeep['data-db-0'].metadata.deletionTimestamp).toBeUndefined();

      // The put after: the StatefulSet finds its claim again (the data would still be there).
      const second = await put();
      expect(second.code, second.stderr).toBe(0);
      await dbReady();
      expect((await claims())['data-db-0'].metadata.uid).toBe(made.metadata.uid);

      const removed = await teardown();
      expect(removed.code, removed.stderr).toBe(0);
      expect(lines(removed.stderr)).toContain(
        'persistentvolumeclaim/data-db-0 deleted (volume claim of a StatefulSet)',
      );
      expect(metadataOf(removed).deleted).toContain('statefulset/db, ');
      expect(metadataOf(removed).deleted).toContain('persistentvolumeclaim/data-db-0');
      expect(metadataOf(removed).volumes_kept).toBeUndefined();
      // Gone (the teardown waited for the pvc-protection finalizer); the claims that were not the StatefulSet's stay.
      expect(Object.keys(await claims()).sort()).toEqual(['data-db-7', 'scratch']);

      // The put after that starts with a fresh, empty volume.
      const third = await put();
      expect(third.code, third.stderr).toBe(0);
      await dbReady();
      expect((await claims())['data-db-0'].metadata.uid).not.toBe(made.metadata.uid);
    },
    240_000,
  );

  test(
    'a claim another Pod still uses times the teardown out naming it; ' + 'the teardown after that finishes',
    async () => {
      const first = await put();
      expect(first.code, first.stderr).toBe(0);
      await dbReady();
      // Someone else's Pod (not the release's) mounts the database's claim: pvc-protection keeps it while it runs.
      await kubectl(['apply', '-f', '-'], {
        namespace: ns.name,
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'backup' },
          spec: {
            containers: [
              { name: 'backup', image: readyImage('2').tagRef, volumeMounts: [{ name: 'd', mountPath: '/d' }] },
            ],
            volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data-db-0' } }],
          },
        }),
      });
      await kubectl(['wait', '--for=condition=Ready', 'pod/backup', '--timeout=30s'], {
        namespace: ns.name,
        timeoutMs: 40_000,
      });

      const cut = await teardown({ timeout: '8s' });
      expect(cut.code).toBe(6);
      expect(cut.stdout).toBe('');
      expect(lines(cut.stderr)).toContain('persistentvolumeclaim/data-db-0 deleted (volume claim of a StatefulSet)');
      expect(lines(cut.stderr).at(-1)).toBe(
        'error: timed out after 8.0s waiting for the volume claims of release web to be deleted: ' +
          'persistentvolumeclaim/data-db-0 still there ' +
          '(the kubernetes.io/pvc-protection finalizer keeps a claim while a Pod uses it)',
      );
      expect((await claims())['data-db-0'].metadata.finalizers).toContain('kubernetes.io/pvc-protection');

      await kubectl(['delete', 'pod', 'backup', '--wait=true', '--timeout=30s'], {
        namespace: ns.name,
        timeoutMs: 40_000,
      });
      const after = await teardown();
      expect(after.code, after.stderr).toBe(0);
      expect(await claims()).toEqual({});
      expect(
        (
          await kubectlJson(['get', 'secrets', '-l', 'kubernetes-deploy-resource.io/release=web'], {
            namespace: ns.name,
          })
        ).items,
      ).toEqual([]);
    },
    180_000,
  );

  test('a teardown cut off after the StatefulSet went still finds its claims from the release records', async () => {
    const first = await put();
    expect(first.code, first.stderr).toBe(0);
    await dbReady();
    // As if an earlier teardown had deleted the StatefulSet and its Pods, then timed out.
    await kubectl(['delete', 'statefulset', 'db', '--cascade=foreground', '--wait=true', '--timeout=60s'], {
      namespace: ns.name,
      timeoutMs: 70_000,
    });
    expect(Object.keys(await claims())).toEqual(['data-db-0']);

    const removed = await teardown();
    expect(removed.code, removed.stderr).toBe(0);
    expect(lines(removed.stderr)).toContain('persistentvolumeclaim/data-db-0 deleted (volume claim of a StatefulSet)');
    expect(await claims()).toEqual({});
  }, 180_000);
});
