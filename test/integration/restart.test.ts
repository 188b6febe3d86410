// Issue 27, item 3: `restart: true` does what `kubectl rollout restart` does — a new ReplicaSet, waited for — with no
// new revision for an unchanged release, and no second rollout on the next plain put. Through the compiled scripts.
import { describe, expect, test } from 'vitest';
import { kubectlJson, useNamespace } from '../support/cluster.js';
import { readyImage } from '../support/images.js';
import { clusterSource, emptyDir } from '../support/release.js';
import { lines, metadataOf, runScript } from '../support/run-script.js';

type Named = { metadata: { name: string; annotations?: Record<string, string> } };

describe('restart: true', () => {
  const ns = useNamespace('kdr-restart');
  const put = (params: Record<string, unknown> = {}) =>
    runScript(
      'out',
      {
        source: clusterSource({ namespace: ns.name }),
        params: { image_ref: readyImage('1').tagRef, replicas: 2, timeout: '2m', ...params },
      },
      { dir: emptyDir() },
    );
  const replicaSets = async () =>
    (
      (await kubectlJson(['get', 'replicasets', '-l', 'app.kubernetes.io/instance=web'], { namespace: ns.name }))
        .items as Named[]
    )
      .map((rs) => rs.metadata.name)
      .sort();

  test('a new ReplicaSet rolled out and waited for, restarted_at reported, the same revision', async () => {
    const first = await put();
    expect(first.code, first.stderr).toBe(0);
    expect(await replicaSets()).toHaveLength(1);

    const restarted = await put({ restart: true });
    expect(restarted.code, restarted.stderr).toBe(0);
    const metadata = metadataOf(restarted);
    expect(metadata.restarted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(metadata.revision).toBe(metadataOf(first).revision);
    expect(lines(restarted.stderr)).toContain(
      `restarting deployment/web (kubectl.kubernetes.io/restartedAt: ${metadata.restarted_at})`,
    );
    // Waited for: when the put ends, the Deployment has rolled out the restarted template, as kubectl says.
    const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
    expect(deployment.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBe(
      metadata.restarted_at,
    );
    expect(deployment.status.observedGeneration).toBe(deployment.metadata.generation);
    expect(deployment.status.updatedReplicas).toBe(2);
    expect(deployment.status.availableReplicas).toBe(2);
    const afterRestart = await replicaSets();
    expect(afterRestart).toHaveLength(2);
    expect(lines(restarted.stderr)).toContain('deployment/web: successfully rolled out (2 of 2 replicas available)');

    // The next plain put leaves it: the annotation is not the apply's to remove, so no third ReplicaSet.
    const plain = await put();
    expect(plain.code, plain.stderr).toBe(0);
    expect(lines(plain.stderr)).toContain('deployment/web unchanged');
    expect(metadataOf(plain).restarted_at).toBeUndefined();
    expect(await replicaSets()).toEqual(afterRestart);
  });
});
