// security_context: restricted into a namespace that enforces the restricted Pod Security Standard.
// The API server's Pod Security admission enforces the label: a Pod that broke the standard is never created. The live
// Pods are also held against the standard by test/support/pod-security.ts, field by field.
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

  test('baseline Pods there are refused by admission: the put fails fast with the policy', async () => {
    await kubectl(['label', 'namespace', ns.name, ...enforceRestricted, '--overwrite']);
    const source = clusterSource({ namespace: ns.name, app: 'plain' });
    const started = Date.now();
    const put = await runScript(
      'out',
      { source, params: { image: 'image', timeout: '10m' } },
      { dir: sourcesDir(readyImage('1')) },
    );
    const elapsedMs = Date.now() - started;
    expect(put.code, put.stderr).toBe(5);
    // The ReplicaSet controller's FailedCreate carries the admission's own words.
    expect(put.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
    expect(put.stderr).toMatch(/allowPrivilegeEscalation != false/);
    // Failed from the controller's evidence, not at the 10-minute timeout.
    expect(elapsedMs).toBeLessThan(120_000);
    const pods = await kubectlJson(['get', 'pods', '-l', 'app.kubernetes.io/instance=plain'], { namespace: ns.name });
    expect(pods.items).toEqual([]);
  });
});
