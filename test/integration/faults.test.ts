// Faults between the scripts and the real apiserver (issue 6): 429 with Retry-After, 500/503, connection resets,
// stalls, dropped watches. Idempotent requests are retried with bounded backoff and a line per retry; a dropped watch
// is resumed; what cannot heal fails with the connection exit code.
import { afterEach, describe, expect, test } from 'vitest';
import { kubectlJson, readSource, useNamespace } from '../support/cluster.js';
import { startFaultProxy, type Fault, type FaultProxy, type ProxyRequest } from '../support/fault-proxy.js';
import { readyImage } from '../support/images.js';
import { emptyDir } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';

let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

function sourceVia(url: string, namespace: string) {
  const { cluster_ca } = readSource() as unknown as Record<string, string>;
  // The proxy authenticates upstream; the token only has to be well-formed.
  return { cluster_url: url, cluster_ca, token: 'via-fault-proxy-0123456789', namespace, app: 'web' };
}

const pass: Fault = { kind: 'pass' };

describe('faults between the scripts and the API server', () => {
  const ns = useNamespace('kdr-faults');

  test(
    '429 with Retry-After, 503, 500 and resets on reads, ' + 'applies and deletes are retried and the put succeeds',
    async () => {
      proxy = await startFaultProxy((r: ProxyRequest) => {
        if (r.method === 'GET' && r.path.endsWith('/deployments/web') && r.seen === 0)
          return { kind: 'status', status: 503 };
        if (r.method === 'PATCH' && r.path.endsWith('/deployments/web') && r.seen === 0)
          return { kind: 'status', status: 429, retryAfter: 1 };
        if (r.method === 'PATCH' && r.path.endsWith('/services/web') && r.seen === 0) return { kind: 'reset' };
        if (r.method === 'GET' && r.path.endsWith('/secrets') && !r.watch && r.seen === 0)
          return { kind: 'status', status: 500 };
        return pass;
      });
      const put = await runScript(
        'out',
        { source: sourceVia(proxy.url, ns.name), params: { image_ref: readyImage('1').tagRef } },
        { dir: emptyDir() },
      );
      expect(put.code, put.stderr).toBe(0);
      const retries = lines(put.stderr).filter((l) => l.startsWith('retrying '));
      // One line per retry, each naming what was retried, when, and why.
      const expected = [
        /^retrying read deployment\/web in namespace \S+ in 0\.5s \(attempt 2 of 5\): the API server answered 503$/,
        /^retrying list secrets in namespace \S+ in 0\.5s \(attempt 2 of 5\): the API server answered 500$/,
        /^retrying apply deployment\/web in namespace \S+ in 1\.0s \(attempt 2 of 5\): the API server answered 429$/,
        new RegExp(
          String.raw`^retrying apply service/web in namespace \S+ in 0\.5s \(attempt 2 of 5\): ` +
            String.raw`lost the connection to the cluster at \S+ \((ECONNRESET|UND_ERR_SOCKET)\)$`,
        ),
      ];
      expect(retries).toHaveLength(expected.length);
      for (const pattern of expected)
        expect(
          retries.filter((l) => pattern.test(l)),
          String(pattern),
        ).toHaveLength(1);
      const injected = proxy.log.filter((l) => l.fault !== 'pass').length;
      expect(injected).toBe(4);
      const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
      expect(deployment.status.availableReplicas).toBe(1);

      // Deletes are retried too.
      await proxy.close();
      proxy = await startFaultProxy((r) =>
        r.method === 'DELETE' && r.seen === 0 ? { kind: 'status', status: 503 } : pass,
      );
      const del = await runScript(
        'out',
        { source: sourceVia(proxy.url, ns.name), params: { delete: true } },
        { dir: emptyDir() },
      );
      expect(del.code, del.stderr).toBe(0);
      expect(lines(del.stderr).filter((l) => /^retrying delete /.test(l)).length).toBeGreaterThanOrEqual(1);
    },
  );

  test('watches cut every 300 ms are resumed and the rollout is still seen through', async () => {
    proxy = await startFaultProxy((r) => (r.watch ? { kind: 'cut', ms: 300 } : pass));
    const put = await runScript(
      'out',
      { source: sourceVia(proxy.url, ns.name), params: { image_ref: readyImage('1').tagRef, replicas: 3 } },
      { dir: emptyDir() },
    );
    expect(put.code, put.stderr).toBe(0);
    expect(proxy.log.filter((l) => l.request.watch).length).toBeGreaterThanOrEqual(3);
  });

  test(
    'watches that stall without a word: the periodic resync still sees the rollout through',
    { timeout: 120_000 },
    async () => {
      proxy = await startFaultProxy((r) => (r.watch ? { kind: 'stall', ms: 60_000 } : pass));
      const put = await runScript(
        'out',
        { source: sourceVia(proxy.url, ns.name), params: { image_ref: readyImage('1').tagRef } },
        { dir: emptyDir() },
      );
      expect(put.code, put.stderr).toBe(0);
      expect(lines(put.stderr)).toContain('deployment/web: successfully rolled out (1 of 1 replicas available)');
    },
  );

  test('an API server that keeps failing: exit 3 after bounded retries, one line per retry', async () => {
    proxy = await startFaultProxy(() => ({ kind: 'status', status: 503 }));
    const check = await runScript('check', { source: sourceVia(proxy.url, ns.name) });
    expect(check.code).toBe(3);
    expect(lines(check.stderr).filter((l) => l.startsWith('retrying '))).toHaveLength(4);
    expect(lines(check.stderr).at(-1)).toMatch(
      /^error: the API server at \S+ failed to list secrets in namespace \S+: 503 injected 503$/,
    );
    expect(proxy.log).toHaveLength(5);
  });

  test(
    'a create is not retried on a reset (it may have happened): ' + 'the put fails with exit 3 and a re-run converges',
    async () => {
      proxy = await startFaultProxy((r) =>
        r.method === 'POST' && r.path.endsWith('/secrets') && r.seen === 0 ? { kind: 'reset' } : pass,
      );
      const first = await runScript(
        'out',
        { source: sourceVia(proxy.url, ns.name), params: { image_ref: readyImage('1').tagRef } },
        { dir: emptyDir() },
      );
      expect(first.code).toBe(3);
      const second = await runScript(
        'out',
        { source: sourceVia(proxy.url, ns.name), params: { image_ref: readyImage('1').tagRef } },
        { dir: emptyDir() },
      );
      expect(second.code, second.stderr).toBe(0);
      const records = await kubectlJson(['get', 'secrets', '-l', 'kubernetes-deploy-resource.io/release=web'], {
        namespace: ns.name,
      });
      expect(
        records.items.map(
          (s: { metadata: { labels: Record<string, string> } }) =>
            s.metadata.labels['kubernetes-deploy-resource.io/status'],
        ),
      ).toEqual(['deployed']);
    },
  );
});
