// Concurrency and aborts against the real cluster (issue 6): one put per release at a time; Concourse aborting a build
// (SIGTERM) ends the put within 2 seconds and leaves no lock and no half-written record behind.
import { describe, expect, test } from 'vitest';
import { kubectl, kubectlJson, useNamespace } from '../support/cluster.js';
import { hangingImage, readyImage } from '../support/images.js';
import { clusterSource, emptyDir, sourcesDir, tagOnly } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';

describe('concurrency and aborts', () => {
  const ns = useNamespace('kdr-reliable');

  test('two puts to the same release at once: both succeed, one after the other, records stay consistent', async () => {
    const source = clusterSource({ namespace: ns.name });
    const [a, b] = await Promise.all([
      runScript(
        'out',
        { source, params: { image_ref: readyImage('a').tagRef } },
        { dir: emptyDir(), env: { BUILD_NAME: '1', BUILD_JOB_NAME: 'a', BUILD_PIPELINE_NAME: 'p' } },
      ),
      runScript(
        'out',
        { source, params: { image_ref: readyImage('b').tagRef } },
        { dir: emptyDir(), env: { BUILD_NAME: '2', BUILD_JOB_NAME: 'b', BUILD_PIPELINE_NAME: 'p' } },
      ),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    // Usually one meets the other's lock; never both.
    expect(
      [a, b].filter((r) => /waiting for p\/[ab] #[12] \(pid \d+\) to finish with release web/.test(r.stderr)).length,
    ).toBeLessThanOrEqual(1);
    const revisions = [a, b].map((r) => (r.json as { version: { revision: string } }).version.revision).sort();
    expect(revisions).toEqual(['1', '2']);
    const records = await kubectlJson(['get', 'secrets', '-l', 'kubernetes-deploy-resource.io/release=web'], {
      namespace: ns.name,
    });
    expect(
      records.items
        .map(
          (s: { metadata: { labels: Record<string, string> } }) =>
            s.metadata.labels['kubernetes-deploy-resource.io/status'],
        )
        .sort(),
    ).toEqual(['deployed', 'deployed']);
    expect((await kubectl(['get', 'lease', 'kdr-lock.web'], { namespace: ns.name, allowFailure: true })).code).not.toBe(
      0,
    );
  });

  test(
    'a put waits while another holds the release lock, with a line saying for whom, ' +
      'and goes on when it is released',
    async () => {
      const source = clusterSource({ namespace: ns.name });
      const now = new Date().toISOString().replace('Z', '000Z');
      const lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'kdr-lock.web', namespace: ns.name },
        spec: { holderIdentity: 'p/other #7 (pid 42)', leaseDurationSeconds: 300, acquireTime: now, renewTime: now },
      };
      await kubectl(['apply', '-f', '-'], { input: JSON.stringify(lease) });
      let released: Promise<unknown> | undefined;
      const put = await runScript(
        'out',
        { source, params: { image_ref: readyImage('1').tagRef, timeout: '1m' } },
        {
          dir: emptyDir(),
          onSpawn: (child) =>
            child.stderr?.on('data', (d: Buffer) => {
              if (!released && d.toString().includes('waiting for p/other #7 (pid 42)'))
                released = kubectl(['delete', 'lease', 'kdr-lock.web'], { namespace: ns.name });
            }),
        },
      );
      await released;
      expect(released).toBeDefined();
      expect(put.code, put.stderr).toBe(0);
      expect(lines(put.stderr)).toContain(
        `waiting for p/other #7 (pid 42) to finish with release web in namespace ${ns.name} (lease/kdr-lock.web)`,
      );
    },
  );

  test(
    'a lock left by a put that died (SIGKILL) is taken over once expired; ' +
      'a live one is waited for until the timeout',
    async () => {
      const source = clusterSource({ namespace: ns.name });
      const lease = (renewTime: string) =>
        JSON.stringify({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: 'kdr-lock.web', namespace: ns.name },
          spec: { holderIdentity: 'p/dead #1 (pid 1)', leaseDurationSeconds: 30, acquireTime: renewTime, renewTime },
        });
      await kubectl(['apply', '-f', '-'], { input: lease('2020-01-01T00:00:00.000000Z') });
      const takeover = await runScript(
        'out',
        { source, params: { image_ref: readyImage('1').tagRef } },
        { dir: emptyDir() },
      );
      expect(takeover.code, takeover.stderr).toBe(0);
      expect(takeover.stderr).toContain('took over the expired lock of release web from p/dead #1 (pid 1)');

      await kubectl(['apply', '-f', '-'], { input: lease(new Date().toISOString().replace('Z', '000Z')) });
      const blocked = await runScript(
        'out',
        { source, params: { image_ref: readyImage('2').tagRef, timeout: '3s' } },
        { dir: emptyDir() },
      );
      expect(blocked.code).toBe(6);
      expect(lines(blocked.stderr)).toContain(
        `waiting for p/dead #1 (pid 1) to finish with release web in namespace ${ns.name} (lease/kdr-lock.web)`,
      );
      expect(lines(blocked.stderr).at(-1)).toBe(
        'error: timed out after 3.0s waiting for p/dead #1 (pid 1) ' +
          `to release lease/kdr-lock.web in namespace ${ns.name}`,
      );
      // Nothing was changed by the put that waited.
      const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
      expect(deployment.spec.template.spec.containers[0].image).toBe(readyImage('1').tagRef);
    },
  );

  test(
    'SIGTERM while applying: exits within 2 seconds, the record is marked failed (never left pending), ' +
      'the lock is released',
    async () => {
      const source = clusterSource({ namespace: ns.name });
      const many = Array.from(
        { length: 60 },
        (_, i) => `---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c-${i}}\ndata: {i: "${i}"}\n`,
      ).join('');
      const dir = sourcesDir(tagOnly(readyImage('1')), { 'deps/many.yml': many });
      let sentAt = 0;
      const result = await runScript(
        'out',
        { source, params: { image: 'image', manifests: ['deps/many.yml'] } },
        {
          dir,
          onSpawn: (child) => {
            child.stderr?.on('data', (d: Buffer) => {
              if (!sentAt && d.toString().includes('recording release')) {
                sentAt = Date.now();
                child.kill('SIGTERM');
              }
            });
          },
        },
      );
      expect(sentAt).toBeGreaterThan(0);
      expect(Date.now() - sentAt).toBeLessThan(2000);
      expect(result.code).toBe(7);
      expect(lines(result.stderr).at(-1)).toBe('error: aborted by SIGTERM');
      const records = await kubectlJson(['get', 'secrets', '-l', 'kubernetes-deploy-resource.io/release=web'], {
        namespace: ns.name,
      });
      expect(
        records.items.map(
          (s: { metadata: { labels: Record<string, string> } }) =>
            s.metadata.labels['kubernetes-deploy-resource.io/status'],
        ),
      ).toEqual(['failed']);
      expect(
        (await kubectl(['get', 'lease', 'kdr-lock.web'], { namespace: ns.name, allowFailure: true })).code,
      ).not.toBe(0);
      // And the next put converges.
      const again = await runScript(
        'out',
        { source, params: { image: 'image', manifests: ['deps/many.yml'] } },
        { dir },
      );
      expect(again.code, again.stderr).toBe(0);
      expect(
        (await kubectlJson(['get', 'configmaps', '-l', 'app.kubernetes.io/instance=web'], { namespace: ns.name }))
          .items,
      ).toHaveLength(60);
    },
  );

  test.each(['SIGTERM', 'SIGINT'] as const)(
    '%s during the rollout wait exits within 2 seconds with a clear line',
    async (signal) => {
      const source = clusterSource({ namespace: ns.name });
      let sentAt = 0;
      const result = await runScript(
        'out',
        { source, params: { ...hangingImage().params, timeout: '2m' } },
        {
          dir: emptyDir(),
          onSpawn: (child) => {
            let seen = '';
            child.stderr?.on('data', (d: Buffer) => {
              seen += d.toString();
              if (!sentAt && /deployment\/web: \d of 1/.test(seen)) {
                sentAt = Date.now();
                child.kill(signal);
              }
            });
          },
        },
      );
      const exitedAfter = Date.now() - sentAt;
      expect(sentAt).toBeGreaterThan(0);
      expect(exitedAfter).toBeLessThan(2000);
      expect(result.code).toBe(7);
      expect(result.stdout).toBe('');
      expect(lines(result.stderr).at(-1)).toBe(`error: aborted by ${signal}`);
      // No lock left behind, and no record left pending.
      expect(
        (await kubectl(['get', 'lease', 'kdr-lock.web'], { namespace: ns.name, allowFailure: true })).code,
      ).not.toBe(0);
      const pending = await kubectlJson(['get', 'secrets', '-l', 'kubernetes-deploy-resource.io/status=pending'], {
        namespace: ns.name,
      });
      expect(pending.items).toEqual([]);
    },
  );
});
