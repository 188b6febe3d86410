// Pods that are never created fail the put fast (issue 11, item 2), and several failed workloads are named in one
// message. These run on the Deployment and ReplicaSet controllers alone.
import { describe, expect, test } from 'vitest';
import { kubectl, kubectlJson, useNamespace } from '../support/cluster.js';
import { completingJobImage, readyImage, unpullableImage } from '../support/images.js';
import { clusterSource, emptyDir, sourcesDir, tagOnly } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';
import { daemonSetYaml, deploymentYaml, jobYaml, statefulSetYaml } from '../support/workloads.js';

const ownLabels = 'app.kubernetes.io/instance=web,app.kubernetes.io/managed-by=kubernetes-deploy-resource';

describe('Pods that cannot be created', () => {
  const ns = useNamespace('kdr-failcreate');

  test(
    'a missing ServiceAccount: exit 5 with the admission message, not a timeout; the same put again fails too ' +
      "(the controller's renewed event); a fixed re-put succeeds; teardown",
    async () => {
      const source = clusterSource({ namespace: ns.name });
      const broken = sourcesDir(tagOnly(readyImage('1')), {
        'deps/worker.yml': deploymentYaml('worker', readyImage('2').tagRef, { serviceAccountName: 'missing' }),
      });
      // The same put each time: only the ServiceAccount changes in between.
      const putRelease = () =>
        runScript(
          'out',
          { source, params: { image: 'image', manifests: ['deps/*.yml'], timeout: '2m' } },
          { dir: broken },
        );
      const put = await putRelease();
      expect(put.code, put.stderr).toBe(5);
      expect(lines(put.stderr).at(-1)).toMatch(
        new RegExp(
          String.raw`^error: deployment/worker failed: replicaset/worker-[a-z0-9]+ cannot create Pods: ` +
            String.raw`FailedCreate: pods "worker-[a-z0-9]+-" is forbidden: ` +
            String.raw`error looking up service account [a-z0-9-]+/missing: serviceaccount "missing" not found$`,
        ),
      );
      expect(put.durationMs).toBeLessThan(60_000);

      // The same put again, still without the ServiceAccount: the worker is unchanged, so the failure left from the
      // last put is not this one's; the controller's next try renews its event, and that fails this put.
      const again = await putRelease();
      expect(again.code, again.stderr).toBe(5);
      expect(lines(again.stderr)).toContain('deployment/worker unchanged');
      expect(lines(again.stderr).at(-1)).toMatch(/cannot create Pods: .*serviceaccount "missing" not found/);
      expect(again.durationMs).toBeLessThan(60_000);

      await kubectl(['create', 'serviceaccount', 'missing'], { namespace: ns.name });
      const fixed = await putRelease();
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(lines(fixed.stderr)).toContain('deployment/worker: successfully rolled out (1 of 1 replicas available)');

      const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() });
      expect(del.code, del.stderr).toBe(0);
      expect(
        (await kubectlJson(['get', 'deployments,replicasets,pods', '-l', ownLabels], { namespace: ns.name })).items,
      ).toEqual([]);
    },
  );

  test(
    'a namespace ResourceQuota the release exceeds: exit 5 naming the quota; ' + 'within the quota it succeeds',
    async () => {
      await kubectl(['create', 'quota', 'pods', '--hard=pods=1'], { namespace: ns.name });
      const source = clusterSource({ namespace: ns.name });
      const put = await runScript(
        'out',
        { source, params: { image_ref: readyImage('1').tagRef, replicas: 3, timeout: '2m' } },
        { dir: emptyDir() },
      );
      expect(put.code, put.stderr).toBe(5);
      const last = lines(put.stderr).at(-1)!;
      expect(last).toMatch(
        new RegExp(
          String.raw`^error: deployment/web failed: replicaset/web-[a-z0-9]+ cannot create Pods: ` +
            String.raw`FailedCreate: pods "web-[a-z0-9]+-[a-z0-9]*" is forbidden: `,
        ),
      );
      expect(last).toContain('quota');
      // Within the quota (a changed put: the failure left from the last one is not this put's).
      const within = await runScript(
        'out',
        { source, params: { image_ref: readyImage('1').tagRef, replicas: 1, timeout: '2m' } },
        { dir: emptyDir() },
      );
      expect(within.code, within.stderr).toBe(0);
      const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() });
      expect(del.code, del.stderr).toBe(0);
    },
  );

  test('two workloads failing: one message names both', async () => {
    const source = clusterSource({ namespace: ns.name });
    const unpullable = unpullableImage().ref;
    const dir = sourcesDir({ repository: 'unused' }, { 'deps/db.yml': deploymentYaml('db', unpullable) });
    const put = await runScript(
      'out',
      { source, params: { image_ref: unpullable, manifests: ['deps/db.yml'], timeout: '2m' } },
      { dir },
    );
    expect(put.code, put.stderr).toBe(5);
    expect(lines(put.stderr).at(-1)).toMatch(
      new RegExp(
        String.raw`^error: 2 workloads failed: ` +
          String.raw`\(1\) deployment/db failed: pod/db-\S+ container db: (ErrImagePull|ImagePullBackOff): .* ` +
          String.raw`\(2\) deployment/web failed: pod/web-\S+ container web: (ErrImagePull|ImagePullBackOff): `,
      ),
    );
    const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() });
    expect(del.code, del.stderr).toBe(0);
  });

  test(
    'a StatefulSet and the app beyond the quota, a Job and a DaemonSet without their ServiceAccount: ' +
      'all named at once, exit 5',
    async () => {
      const source = clusterSource({ namespace: ns.name });
      // No Pod at all: every creation fails at once (the ServiceAccount check comes before the quota's).
      await kubectl(['create', 'quota', 'no-pods', '--hard=pods=0'], { namespace: ns.name });
      const sa = { serviceAccountName: 'nobody' };
      const files = {
        'deps/db.yml': statefulSetYaml('db', readyImage('2').tagRef, { replicas: 1 }),
        'deps/seed.yml': jobYaml('seed', completingJobImage().ref, { podExtra: sa }),
        'deps/agent.yml': daemonSetYaml('agent', readyImage('3').tagRef, sa),
      };
      const put = await runScript(
        'out',
        { source, params: { image: 'image', manifests: Object.keys(files), timeout: '2m' } },
        { dir: sourcesDir(tagOnly(readyImage('1')), files) },
      );
      expect(put.code, put.stderr).toBe(5);
      const last = lines(put.stderr).at(-1)!;
      expect(last).toMatch(
        new RegExp(
          String.raw`^error: 4 workloads failed: \(1\) daemonset/agent failed: cannot create Pods: ` +
            String.raw`FailedCreate: .*serviceaccount "nobody" not found`,
        ),
      );
      expect(last).toMatch(
        new RegExp(
          String.raw`\(2\) statefulset/db failed: cannot create Pods: ` +
            String.raw`FailedCreate: Create Pod db-0 in StatefulSet db failed error: ` +
            String.raw`pods "db-0" is forbidden: exceeded quota: no-pods`,
        ),
      );
      expect(last).toMatch(
        /\(3\) job\/seed failed: cannot create Pods: FailedCreate: .*serviceaccount "nobody" not found/,
      );
      expect(last).toMatch(
        new RegExp(
          String.raw`\(4\) deployment/web failed: replicaset/web-[a-z0-9]+ cannot create Pods: ` +
            String.raw`FailedCreate: .*exceeded quota: no-pods`,
        ),
      );
      await kubectl(['delete', 'quota', 'no-pods'], { namespace: ns.name });
      const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() });
      expect(del.code, del.stderr).toBe(0);
    },
  );
});
