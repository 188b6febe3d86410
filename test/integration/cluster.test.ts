// Cross-checks the test cluster with the machine's real kubectl: the server is a real
// kube-apiserver v1.20.2, Deployment status comes from the real kube-controller-manager, and the
// kubelet stand-in drives Pods the way a kubelet would (see docs/cluster.md).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  auditLogPath, createNamespace, deleteNamespace, kubectl, kubectlBin, kubectlJson, rbacToken, readSource,
  uniqueNamespaceName, useNamespace, usingExternalCluster, waitFor,
} from '../support/cluster.ts';
import { crashingImage, hangingImage, readyImage, unpullableImage, type FailingImage } from '../support/images.ts';

// The container of a hand-written Deployment: an image reference, or a failing image's container fields.
function deployment(name: string, image: string | FailingImage, extra: { replicas?: number; progressDeadlineSeconds?: number } = {}) {
  const container = typeof image === 'string' ? { image } : image.container;
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: extra.replicas ?? 1,
      ...(extra.progressDeadlineSeconds ? { progressDeadlineSeconds: extra.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', ...container, ports: [{ containerPort: 8080 }] }] },
      },
    },
  });
}

async function applyServerSide(namespace: string, manifest: string): Promise<void> {
  await kubectl(['apply', '--server-side', '--field-manager', 'kdr-cluster-test', '-f', '-'], { namespace, input: manifest });
}

async function podsOf(namespace: string, app: string): Promise<any[]> {
  return (await kubectlJson(['get', 'pods', '-l', `app=${app}`], { namespace })).items;
}

describe('the test cluster, seen through kubectl', () => {
  const ns = useNamespace('kdr-cluster');

  it('is a real Kubernetes v1.20.2 server', async () => {
    const version = await kubectlJson(['version']);
    if (!usingExternalCluster()) expect(version.serverVersion.gitVersion).toBe('v1.20.2');
    expect(version.serverVersion.major).toBe('1');
  });

  it('lists namespaces, including this test\'s own', async () => {
    const { stdout } = await kubectl(['get', 'ns']);
    expect(stdout).toMatch(/^default\s+Active/m);
    expect(stdout).toMatch(/^kube-system\s+Active/m);
    expect(stdout).toContain(ns.name);
  });

  it('source.json holds the resource\'s source fields, base64 as a user pastes them', () => {
    const source = readSource();
    expect(source.cluster_url).toMatch(/^https:\/\//);
    for (const field of ['cluster_ca', 'admin_cert', 'admin_key'] as const) {
      const value = source[field];
      if (value === undefined) continue; // another cluster may use a token instead
      expect(value).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(value, 'base64').toString('utf8')).toMatch(/^-----BEGIN [A-Z ]+-----\n/);
    }
  });

  it('rolls out a Deployment applied server-side once the kubelet readies its Pods', async () => {
    const image = readyImage('1').tagRef;
    await applyServerSide(ns.name, deployment('web', image, { replicas: 3 }));
    await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'], { namespace: ns.name, timeoutMs: 70_000 });

    const dep = await kubectlJson(['get', 'deployment', 'web', '--show-managed-fields'], { namespace: ns.name });
    expect(dep.status.availableReplicas).toBe(3);
    const available = dep.status.conditions.find((c: any) => c.type === 'Available');
    expect(available.status).toBe('True');
    // Server-side apply recorded our field manager.
    expect(dep.metadata.managedFields.map((f: any) => f.manager)).toContain('kdr-cluster-test');

    const pods = await podsOf(ns.name, 'web');
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.status.phase).toBe('Running');
      expect(pod.metadata.ownerReferences[0].kind).toBe('ReplicaSet'); // made by the real controller
      const [container] = pod.status.containerStatuses;
      expect(container).toMatchObject({ name: 'app', image, ready: true, started: true, restartCount: 0 });
      expect(container.imageID).toMatch(/sha256:[0-9a-f]{64}$/);
      expect(container.state.running.startedAt).toBeTruthy();
      expect(pod.status.podIP).toBeTruthy();
    }
  });

  it('shows ImagePullBackOff (and kubelet-like events) for an unpullable image', async () => {
    const unpullable = unpullableImage();
    await applyServerSide(ns.name, deployment('broken', unpullable));
    const pod = await waitFor('ImagePullBackOff', async () => {
      const [p] = await podsOf(ns.name, 'broken');
      return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' && p;
    });
    expect(pod.status.phase).toBe('Pending');
    const { stdout } = await kubectl(['get', 'pods', '-l', 'app=broken'], { namespace: ns.name });
    expect(stdout).toContain('ImagePullBackOff');

    const events = await waitFor('pull failure events', async () => {
      const list = await kubectlJson(['get', 'events', '--field-selector', `involvedObject.name=${pod.metadata.name}`], {
        namespace: ns.name,
      });
      const reasons = list.items.map((e: any) => e.reason);
      return reasons.includes('Failed') && reasons.includes('BackOff') && list.items;
    });
    expect(events.some((e: any) => e.message.startsWith(`Failed to pull image "${unpullable.ref}"`))).toBe(true);
  });

  it('fails `kubectl rollout status` with ProgressDeadlineExceeded for a hanging image', async () => {
    await applyServerSide(ns.name, deployment('stuck', hangingImage(), { progressDeadlineSeconds: 5 }));
    const started = Date.now();
    const result = await kubectl(['rollout', 'status', 'deployment/stuck', '--timeout=60s'], {
      namespace: ns.name, allowFailure: true, timeoutMs: 70_000,
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/exceeded its progress deadline/);
    expect(Date.now() - started).toBeLessThan(60_000);

    const dep = await kubectlJson(['get', 'deployment', 'stuck'], { namespace: ns.name });
    const progressing = dep.status.conditions.find((c: any) => c.type === 'Progressing');
    expect(progressing).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    // A real kubelet may still be pulling when the deadline passes: wait (bounded) for the container to run.
    const pod = await waitFor('the stuck Pod to run', async () => {
      const [p] = await podsOf(ns.name, 'stuck');
      return p?.status?.phase === 'Running' && p;
    });
    expect(pod.status.containerStatuses[0]).toMatchObject({ ready: false, started: true });
  }, 90_000);

  it('shows CrashLoopBackOff with a rising restartCount for a crashing image', async () => {
    const crashing = crashingImage();
    await applyServerSide(ns.name, deployment('crash', crashing));
    const first = await waitFor('CrashLoopBackOff', async () => {
      const [p] = await podsOf(ns.name, 'crash');
      const c = p?.status?.containerStatuses?.[0];
      return c?.state?.waiting?.reason === 'CrashLoopBackOff' && c;
    });
    expect(first.lastState.terminated.exitCode).toBe(1);
    await waitFor('restartCount to rise', async () => {
      const [p] = await podsOf(ns.name, 'crash');
      return p.status.containerStatuses[0].restartCount > first.restartCount;
    }, { timeoutMs: crashing.restartWithinMs });
  }, 180_000);

  it('refuses a user without RBAC grants (static token user rbac-test)', async (ctx) => {
    const token = rbacToken();
    if (!token) ctx.skip(); // only when pointed at another cluster without KDR_TEST_RBAC_TOKEN
    const source = readSource();
    const dir = mkdtempSync(join(tmpdir(), 'kdr-rbac-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(kubeconfig, JSON.stringify({
        apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
        clusters: [{ name: 'c', cluster: { server: source.cluster_url, 'certificate-authority-data': source.cluster_ca } }],
        users: [{ name: 'u', user: { token } }],
        contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      }));
      let stderr = '';
      try {
        execFileSync(kubectlBin, ['--kubeconfig', kubeconfig, '-n', ns.name, 'get', 'pods'], { stdio: 'pipe' });
      } catch (err: any) {
        stderr = String(err.stderr);
      }
      expect(stderr).toMatch(/Forbidden|forbidden/);
      expect(stderr).toContain('rbac-test');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('records every request in the audit log with its user agent', async (ctx) => {
    if (usingExternalCluster()) ctx.skip();
    await kubectl(['get', 'configmaps'], { namespace: ns.name });
    await waitFor('audit entry for this kubectl call', () => {
      if (!existsSync(auditLogPath)) return false;
      return readFileSync(auditLogPath, 'utf8').split('\n').some((line) => {
        if (!line.includes(ns.name) || !line.includes('configmaps')) return false;
        const entry = JSON.parse(line);
        return entry.verb === 'list' && entry.stage === 'ResponseComplete' && /^kubectl\//.test(entry.userAgent);
      });
    }, { timeoutMs: 10_000 });
  });
});

describe('namespace deletion', () => {
  it('completes for a namespace with running Pods', async () => {
    const name = uniqueNamespaceName('kdr-nsdel');
    await createNamespace(name);
    try {
      await applyServerSide(name, deployment('web', readyImage('1').tagRef, { replicas: 3 }));
      await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s'], { namespace: name, timeoutMs: 70_000 });
      expect(await deleteNamespace(name, 60_000)).toBe(true);
    } finally {
      await deleteNamespace(name, 1_000);
    }
  }, 150_000);
});
