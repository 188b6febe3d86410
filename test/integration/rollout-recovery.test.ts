// The put that restores service after a failed one (issue 10, item 1): good → broken (5, or 6 at the timeout) → good
// must exit 0 every time, however the watch delivers the Deployment, its ReplicaSets and the failed Pods. Each pair is
// repeated so that a race shows; then the release is torn down.
import { describe, expect, test } from 'vitest';
import { kubectlJson, useNamespace } from '../support/cluster.js';
import { crashingImage, hangingImage, readyImage, unpullableImage, type FailingImage } from '../support/images.js';
import { clusterSource, emptyDir } from '../support/release.js';
import { lines, runScript, type ScriptResult } from '../support/run-script.js';

const good = readyImage('1').tagRef;
const ownLabels = 'app.kubernetes.io/instance=web,app.kubernetes.io/managed-by=kubernetes-deploy-resource';

describe('recovery after a failed put', () => {
  const ns = useNamespace('kdr-recover');
  // The image's params: image_ref, and for a hanging image on a real kubelet the probe that keeps it unready.
  const put = (image: FailingImage['params'], timeout = '2m'): Promise<ScriptResult> =>
    runScript(
      'out',
      { source: clusterSource({ namespace: ns.name }), params: { ...image, replicas: 2, timeout } },
      { dir: emptyDir() },
    );

  async function expectHealthy(result: ScriptResult): Promise<void> {
    expect(result.code, result.stderr).toBe(0);
    expect(lines(result.stderr)).toContain('deployment/web: successfully rolled out (2 of 2 replicas available)');
    const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
    expect(deployment.spec.template.spec.containers[0].image).toBe(good);
    expect(deployment.status.availableReplicas).toBe(2);
  }

  async function teardown(): Promise<void> {
    const del = await runScript(
      'out',
      { source: clusterSource({ namespace: ns.name }), params: { delete: true } },
      { dir: emptyDir() },
    );
    expect(del.code, del.stderr).toBe(0);
    const left = await kubectlJson(['get', 'deployments,replicasets,pods,services', '-l', ownLabels], {
      namespace: ns.name,
    });
    expect(left.items).toEqual([]);
  }

  test.each([
    [
      'unpullable',
      unpullableImage(),
      /^error: deployment\/web failed: pod\/web-\S+ container web: (ErrImagePull|ImagePullBackOff)/,
    ],
    ['crashing', crashingImage(), /^error: deployment\/web failed: pod\/web-\S+ container web: CrashLoopBackOff/],
  ])('good → %s (5) → good (0), twice, then teardown', async (_name, broken, cause) => {
    await expectHealthy(await put({ image_ref: good }));
    for (let round = 0; round < 2; round++) {
      const failed = await put(broken.params);
      expect(failed.code, failed.stderr).toBe(5);
      expect(lines(failed.stderr).at(-1)).toMatch(cause);
      const recovered = await put({ image_ref: good });
      await expectHealthy(recovered);
      // The failed ReplicaSet's Pods were there when the recovery began: never named.
      expect(recovered.stderr).not.toMatch(/ErrImagePull|ImagePullBackOff|CrashLoopBackOff/);
    }
    // check reports the good release; the failed ones are not versions.
    const check = await runScript('check', { source: clusterSource({ namespace: ns.name }) });
    expect((check.json as { image: string }[]).map((v) => v.image)).toEqual([good]);
    await teardown();
  });

  test('good → hanging (6 at a short timeout) → good (0), twice, then teardown', async () => {
    await expectHealthy(await put({ image_ref: good }));
    for (let round = 0; round < 2; round++) {
      const stuck = await put(hangingImage().params, '6s');
      expect(stuck.code, stuck.stderr).toBe(6);
      expect(lines(stuck.stderr).at(-1)).toMatch(
        /^error: timed out after 6\.0s waiting for the rollout: deployment\/web: /,
      );
      await expectHealthy(await put({ image_ref: good }));
    }
    await teardown();
  });
});
