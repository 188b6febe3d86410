// Kill and restart kube-apiserver in the middle of a put (issue 6). The put either completes once the apiserver is
// back or fails with the connection exit code; a re-run converges to the full release with one consistent release
// record and no orphaned objects. Runs alone (npm run test:disruptive): it takes the cluster away from everyone.
import { describe, expect, test } from 'vitest';
import { killApiserver, startApiserver } from '../support/apiserver.js';
import { kubectlJson, useNamespace } from '../support/cluster.js';
import { readyImage } from '../support/images.js';
import { clusterSource, emptyDir } from '../support/release.js';
import { runScript } from '../support/run-script.js';

describe('kube-apiserver killed and restarted during a put', () => {
  const ns = useNamespace('kdr-restart', { deleteWaitMs: 60_000 });

  test.each([
    ['during the rollout wait', /waiting up to/, 3000],
    ['while applying', /recording release/, 3000],
    ['for longer than the retries last', /waiting up to/, 15_000],
  ] as const)('%s', { timeout: 240_000 }, async (_name, when, downMs) => {
    const source = clusterSource({ namespace: ns.name });
    const request = { source, params: { image_ref: readyImage('1').tagRef, replicas: 3, timeout: '2m' } };
    let restarted: Promise<void> | undefined;
    const put = await runScript('out', request, {
      dir: emptyDir(),
      onSpawn: (child) => {
        let seen = '';
        child.stderr?.on('data', (d: Buffer) => {
          seen += d.toString();
          if (!restarted && when.test(seen)) {
            restarted = (async () => {
              const argv = await killApiserver();
              await new Promise((r) => setTimeout(r, downMs));
              await startApiserver(argv);
            })();
          }
        });
      },
    });
    await restarted;
    expect(restarted).toBeDefined();
    // Either it rode it out, or it failed with the connection exit code.
    expect([0, 3], put.stderr).toContain(put.code);

    const rerun = await runScript('out', request, { dir: emptyDir() });
    expect(rerun.code, rerun.stderr).toBe(0);
    const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
    expect(deployment.status.availableReplicas).toBe(3);
    const records = await kubectlJson(['get', 'secrets', '-l', 'kubernetes-deploy-resource.io/release=web'], {
      namespace: ns.name,
    });
    const statuses = records.items.map(
      (s: { metadata: { labels: Record<string, string> } }) =>
        s.metadata.labels['kubernetes-deploy-resource.io/status'],
    );
    expect(statuses.filter((s: string) => s === 'deployed')).toHaveLength(1);
    expect(statuses).not.toContain('pending');
    // No orphans: everything labelled as the release is the release.
    const ours = await kubectlJson(
      ['get', 'deployments,services,ingresses,configmaps', '-l', 'app.kubernetes.io/instance=web'],
      { namespace: ns.name },
    );
    expect(
      ours.items.map((o: { kind: string; metadata: { name: string } }) => `${o.kind}/${o.metadata.name}`).sort(),
    ).toEqual(['Deployment/web', 'Service/web']);
    const check = await runScript('check', { source });
    expect((check.json as unknown[]).length).toBe(1);
  });
});
