// Issue 27, item 1: a failed rollout ends with the app's own last words, read through the real API server's pods/log
// (which asks the node's kubelet: the stand-in serves what its containers "print", docs/cluster.md), redacted, and
// says plainly when the kubelet cannot be reached. Through the compiled scripts.
import { afterEach, describe, expect, test } from 'vitest';
import { kubectl, kubectlJson, useNamespace, waitFor } from '../support/cluster.js';
import { crashingImage, failingJobImage, readyImage } from '../support/images.js';
import { clusterSource, emptyDir, sourcesDir, tagOnly } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';
import { jobYaml } from '../support/workloads.js';

const crashLines = [
  'connecting to db:5432',
  'error: cannot connect to db:5432: connection refused',
  'exiting with code 1',
];

describe("a failed rollout ends with the container's last log lines", () => {
  const ns = useNamespace('kdr-logs');

  test('a crashing image: the lines of the run that crashed, a credential it prints redacted', async () => {
    const source = clusterSource({ namespace: ns.name });
    // A line of the source's client key, as an app that logs its configuration would print a secret.
    const keyPem = Buffer.from(source.admin_key as string, 'base64').toString('utf8');
    const canary = keyPem.split('\n').find((l) => l.length >= 40 && !l.startsWith('-----'))!;
    const put = await runScript(
      'out',
      {
        source,
        params: { ...crashingImage().params, env: { TEST_PRINT: `using key ${canary}` }, timeout: '2m' },
      },
      { dir: emptyDir() },
    );
    expect(put.code, put.stderr).toBe(5);
    const last = lines(put.stderr).at(-1)!;
    expect(last).toMatch(/^error: deployment\/web failed: pod\/web-\S+ container web: CrashLoopBackOff/);
    expect(
      last.endsWith(
        '; last 4 log lines of container web (its previous run, the one that exited): ' +
          ['using key [redacted]', ...crashLines].join(' ⏎ '),
      ),
      last,
    ).toBe(true);
    expect(put.stderr).not.toContain(canary);
  });

  test("a failed Job: its failed Pod's log", async () => {
    const put = await runScript(
      'out',
      {
        source: clusterSource({ namespace: ns.name }),
        params: { image: 'image', manifests: ['seed.yml'], timeout: '2m' },
      },
      { dir: sourcesDir(tagOnly(readyImage('1')), { 'seed.yml': jobYaml('seed', failingJobImage().ref) }) },
    );
    expect(put.code, put.stderr).toBe(5);
    const last = lines(put.stderr).at(-1)!;
    expect(last).toMatch(/^error: job\/seed failed: BackoffLimitExceeded: /);
    expect(last.endsWith(`; last 3 log lines of container seed: ${crashLines.join(' ⏎ ')}`), last).toBe(true);
  });
});

describe('a log the kubelet cannot serve', () => {
  const ns = useNamespace('kdr-logs-ghost');
  // A Node whose kubelet endpoint nobody listens on; Pods bound to it are none of the stand-in's business. Tainted,
  // so that no DaemonSet of another test puts a Pod there.
  const ghost = `kdr-ghost-${process.pid}`;
  afterEach(async () => {
    await kubectl(['delete', 'node', ghost, '--ignore-not-found', '--wait=false']);
  });

  test('is said plainly: the API server could not reach the kubelet; the failure is the same', async () => {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: ghost, labels: { 'kubernetes.io/hostname': ghost } },
      spec: { taints: [{ key: 'kdr-test/ghost', effect: 'NoSchedule' }] },
    };
    await kubectl(['apply', '-f', '-'], { input: JSON.stringify(node) });
    const status = {
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        daemonEndpoints: { kubeletEndpoint: { Port: 1 } },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ghost' }],
      },
    };
    await kubectl(['patch', 'node', ghost, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    // Bound to the ghost node by the manifest (no scheduler runs), failed at its first Pod (backoffLimit 0).
    const manifest = jobYaml('seed', crashingImage().ref, { backoffLimit: 0, podExtra: { nodeName: ghost } });
    const put = runScript(
      'out',
      {
        source: clusterSource({ namespace: ns.name }),
        params: { image: 'image', manifests: ['seed.yml'], wait: true, timeout: '90s' },
      },
      { dir: sourcesDir(tagOnly(readyImage('1')), { 'seed.yml': manifest }) },
    );
    // No kubelet runs the Pod: the test writes the failure a kubelet would (the container ran, exited 1).
    const pod = await waitFor('the Job Pod on the ghost node', async () => {
      const pods = await kubectlJson(['get', 'pods', '-l', 'job-name=seed'], { namespace: ns.name });
      return pods.items[0]?.metadata.name as string | undefined;
    });
    const terminated = {
      exitCode: 1,
      reason: 'Error',
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
    };
    const failed = {
      status: {
        phase: 'Failed',
        containerStatuses: [
          {
            name: 'seed',
            image: crashingImage().ref,
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { terminated },
          },
        ],
      },
    };
    await kubectl(['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify(failed)], {
      namespace: ns.name,
    });
    const result = await put;
    expect(result.code, result.stderr).toBe(5);
    const last = lines(result.stderr).at(-1)!;
    expect(last).toMatch(/^error: job\/seed failed: BackoffLimitExceeded: /);
    expect(last).toContain(
      "; the log of container seed could not be read: the API server could not get it from the node's kubelet",
    );
    expect(last).toMatch(/127\.0\.0\.1:1\b.*(connection refused|connect)/);
  });
});
