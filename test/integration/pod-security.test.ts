// security_context: restricted into a namespace that enforces the restricted Pod Security Standard.
// The 1.20 test cluster has no Pod Security admission: there the label is inert and the live Pods are held against
// the standard by test/support/pod-security.ts. On 1.25+ (the kind job) the API server enforces it as well: a Pod that
// broke the standard would never be created, and the rollout would not finish.
import { describe, expect, test } from 'vitest';
import { kubectl, kubectlJson, useNamespace } from '../support/cluster.js';
import { readyImage } from '../support/images.js';
import { podSecurityViolations } from '../support/pod-security.js';
import { clusterSource, emptyDir, sourcesDir } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';

const enforceRestricted = [
  'pod-security.kubernetes.io/enforce=restricted',
  'pod-security.kubernetes.io/warn=restricted',
];

describe('a restricted put into a namespace enforcing restricted Pod Security', () => {
  const ns = useNamespace('kdr-psa');

  test('deploys, re-puts unchanged and changed, and tears down; the live Pods pass the standard', async () => {
    await kubectl(['label', 'namespace', ns.name, ...enforceRestricted]);
    const source = clusterSource({ namespace: ns.name });
    const put = (tag: '1' | '2') =>
      runScript(
        'out',
        { source, params: { image: 'image', security_context: 'restricted', replicas: 2 } },
        { dir: sourcesDir(readyImage(tag)) },
      );

    const first = await put('1');
    expect(first.code, first.stderr).toBe(0);
    expect(lines(first.stderr).join('\n')).not.toMatch(/violate PodSecurity/);
    const pods = async () =>
      (await kubectlJson(['get', 'pods', '-l', 'app.kubernetes.io/instance=web'], { namespace: ns.name }))
        .items as any[];
    const live = await pods();
    expect(live.length).toBeGreaterThanOrEqual(2);
    for (const pod of live) expect(podSecurityViolations(pod, 'restricted'), pod.metadata.name).toEqual([]);

    const same = await put('1');
    expect(same.code, same.stderr).toBe(0);
    expect((same.json as { version: unknown }).version).toEqual((first.json as { version: unknown }).version);
    expect(same.stderr).toContain('deployment/web unchanged');

    const changed = await put('2');
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.json).toMatchObject({ version: { revision: '2', image: readyImage('2').digestRef } });
    const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
    expect(podSecurityViolations(deployment.spec.template, 'restricted')).toEqual([]);
    expect(deployment.status.updatedReplicas).toBe(2);

    const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() });
    expect(del.code, del.stderr).toBe(0);
    expect(await pods()).toEqual([]);
  });
});
