// Cross-checks the test cluster with a real kubectl of the same version: the server is a real kube-apiserver of the
// pinned version (1.37 by default), Deployment status comes from the real kube-controller-manager, and the kubelet
// stand-in drives Pods the way a kubelet would (see docs/cluster.md).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  auditLogPath,
  createNamespace,
  deleteNamespace,
  kubectl,
  clusterEnv,
  kubectlBin,
  kubectlJson,
  rbacToken,
  readSource,
  uniqueNamespaceName,
  useNamespace,
  usingExternalCluster,
  waitFor,
} from '../support/cluster.ts';
import {
  completingJobImage,
  crashingImage,
  failingJobImage,
  hangingImage,
  readyImage,
  unpullableImage,
  type FailingImage,
} from '../support/images.ts';

// The container of a hand-written Deployment: an image reference, or a failing image's container fields.
function deployment(
  name: string,
  image: string | FailingImage,
  extra: { replicas?: number; progressDeadlineSeconds?: number } = {},
) {
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
  await kubectl(['apply', '--server-side', '--field-manager', 'kdr-cluster-test', '-f', '-'], {
    namespace,
    input: manifest,
  });
}

async function podsOf(namespace: string, app: string): Promise<any[]> {
  return (await kubectlJson(['get', 'pods', '-l', `app=${app}`], { namespace })).items;
}

describe('the test cluster, seen through kubectl', () => {
  const ns = useNamespace('kdr-cluster');

  it('is a real Kubernetes server of the pinned version, and kubectl is of the same version', async () => {
    const version = await kubectlJson(['version']);
    if (!usingExternalCluster()) {
      const pinned = clusterEnv().KUBE_VERSION;
      expect(pinned).toMatch(/^v1\.(3[5-9])\.\d+$/);
      expect(version.serverVersion.gitVersion).toBe(pinned);
      expect(version.clientVersion.gitVersion).toBe(pinned);
    }
    expect(version.serverVersion.major).toBe('1');
  });

  it("lists namespaces, including this test's own", async () => {
    const { stdout } = await kubectl(['get', 'ns']);
    expect(stdout).toMatch(/^default\s+Active/m);
    expect(stdout).toMatch(/^kube-system\s+Active/m);
    expect(stdout).toContain(ns.name);
  });

  it("source.json holds the resource's source fields, base64 as a user pastes them", () => {
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
      const list = await kubectlJson(
        ['get', 'events', '--field-selector', `involvedObject.name=${pod.metadata.name}`],
        {
          namespace: ns.name,
        },
      );
      const reasons = list.items.map((e: any) => e.reason);
      return reasons.includes('Failed') && reasons.includes('BackOff') && list.items;
    });
    expect(events.some((e: any) => e.message.startsWith(`Failed to pull image "${unpullable.ref}"`))).toBe(true);
  });

  it('fails `kubectl rollout status` with ProgressDeadlineExceeded for a hanging image', async () => {
    await applyServerSide(ns.name, deployment('stuck', hangingImage(), { progressDeadlineSeconds: 5 }));
    const started = Date.now();
    const result = await kubectl(['rollout', 'status', 'deployment/stuck', '--timeout=60s'], {
      namespace: ns.name,
      allowFailure: true,
      timeoutMs: 70_000,
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
    await waitFor(
      'restartCount to rise',
      async () => {
        const [p] = await podsOf(ns.name, 'crash');
        return p.status.containerStatuses[0].restartCount > first.restartCount;
      },
      { timeoutMs: crashing.restartWithinMs },
    );
  }, 180_000);

  it('refuses a user without RBAC grants (static token user rbac-test)', async (ctx) => {
    const token = rbacToken();
    if (!token) ctx.skip(); // only when pointed at another cluster without KDR_TEST_RBAC_TOKEN
    const source = readSource();
    const dir = mkdtempSync(join(tmpdir(), 'kdr-rbac-'));
    try {
      const kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          'current-context': 'c',
          clusters: [
            { name: 'c', cluster: { server: source.cluster_url, 'certificate-authority-data': source.cluster_ca } },
          ],
          users: [{ name: 'u', user: { token } }],
          contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
        }),
      );
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
    await waitFor(
      'audit entry for this kubectl call',
      () => {
        if (!existsSync(auditLogPath)) return false;
        return readFileSync(auditLogPath, 'utf8')
          .split('\n')
          .some((line) => {
            if (!line.includes(ns.name) || !line.includes('configmaps')) return false;
            const entry = JSON.parse(line);
            return entry.verb === 'list' && entry.stage === 'ResponseComplete' && /^kubectl\//.test(entry.userAgent);
          });
      },
      { timeoutMs: 10_000 },
    );
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

// The workload controllers a release's extra manifests use (StatefulSet, DaemonSet, Job, CronJob), the volume
// controllers and the quota controller run for real; the stand-in runs the Pods as a kubelet would.
describe('workload controllers, seen through kubectl', () => {
  const ns = useNamespace('kdr-workloads');

  function job(name: string, image: string, spec: Record<string, unknown> = {}, restartPolicy = 'Never') {
    return JSON.stringify({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: {
        backoffLimit: 0,
        ...spec,
        template: { spec: { restartPolicy, containers: [{ name: 'run', image }] } },
      },
    });
  }

  async function jobPods(namespace: string, name: string): Promise<any[]> {
    return (await kubectlJson(['get', 'pods', '-l', `job-name=${name}`], { namespace })).items;
  }

  async function failedCondition(namespace: string, name: string): Promise<any> {
    return waitFor(
      `job ${name} to fail`,
      async () => {
        const j = await kubectlJson(['get', 'job', name], { namespace });
        return j.status.conditions?.find((c: any) => c.type === 'Failed' && c.status === 'True');
      },
      { timeoutMs: 60_000 },
    );
  }

  it('rolls out a StatefulSet in order, with Pending claims from its volumeClaimTemplates', async () => {
    await applyServerSide(
      ns.name,
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db' },
        spec: {
          serviceName: 'db',
          replicas: 2,
          selector: { matchLabels: { app: 'db' } },
          template: {
            metadata: { labels: { app: 'db' } },
            spec: {
              containers: [
                { name: 'db', image: readyImage('1').tagRef, volumeMounts: [{ name: 'data', mountPath: '/d' }] },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: 'data' },
              spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
            },
          ],
        },
      }),
    );
    const { stdout } = await kubectl(['rollout', 'status', 'statefulset/db', '--timeout=60s'], {
      namespace: ns.name,
      timeoutMs: 70_000,
    });
    expect(stdout).toMatch(/partitioned roll out complete|roll out complete/);
    const sts = await kubectlJson(['get', 'statefulset', 'db'], { namespace: ns.name });
    expect(sts.status).toMatchObject({ readyReplicas: 2, currentReplicas: 2 });
    expect(sts.status.currentRevision).toBe(sts.status.updateRevision);

    const pods = await podsOf(ns.name, 'db');
    expect(pods.map((p) => p.metadata.name).sort()).toEqual(['db-0', 'db-1']);
    // The controller started db-1 only once db-0 was Ready (OrderedReady).
    const [db0, db1] = pods.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const readyAt = (p: any) => p.status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime;
    expect(Date.parse(db1.metadata.creationTimestamp)).toBeGreaterThanOrEqual(Date.parse(readyAt(db0)) - 1000);

    // Claims `<template>-<statefulset>-<ordinal>`, Pending (no provisioner), protected while Pods use them.
    const claims = (await kubectlJson(['get', 'pvc'], { namespace: ns.name })).items;
    expect(claims.map((c: any) => c.metadata.name).sort()).toEqual(['data-db-0', 'data-db-1']);
    for (const claim of claims) {
      expect(claim.status.phase).toBe('Pending');
      expect(claim.metadata.finalizers).toContain('kubernetes.io/pvc-protection');
      expect(claim.metadata.labels).toEqual({ app: 'db' });
    }

    // A claim in use stays Terminating; once the StatefulSet and its Pods are gone, pvc-protection lets it go.
    await kubectl(['delete', 'pvc', 'data-db-0', '--wait=false'], { namespace: ns.name });
    const terminating = await kubectlJson(['get', 'pvc', 'data-db-0'], { namespace: ns.name });
    expect(terminating.metadata.deletionTimestamp).toBeTruthy();
    await kubectl(['delete', 'statefulset', 'db', '--wait=true', '--timeout=30s'], { namespace: ns.name });
    await waitFor("the StatefulSet's Pods to go", async () => (await podsOf(ns.name, 'db')).length === 0);
    await waitFor('claim data-db-0 to go', async () => {
      const { code, stderr } = await kubectl(['get', 'pvc', 'data-db-0'], { namespace: ns.name, allowFailure: true });
      return code !== 0 && /NotFound/.test(stderr);
    });
  }, 120_000);

  it('rolls out a DaemonSet onto the stand-in node', async () => {
    await applyServerSide(
      ns.name,
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'agent' },
        spec: {
          selector: { matchLabels: { app: 'agent' } },
          template: {
            metadata: { labels: { app: 'agent' } },
            spec: { containers: [{ name: 'agent', image: readyImage('1').tagRef }] },
          },
        },
      }),
    );
    const { stdout } = await kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=60s'], {
      namespace: ns.name,
      timeoutMs: 70_000,
    });
    expect(stdout).toMatch(/successfully rolled out/);
    const ds = await kubectlJson(['get', 'daemonset', 'agent'], { namespace: ns.name });
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 1, numberAvailable: 1, updatedNumberScheduled: 1 });
    const [pod] = await podsOf(ns.name, 'agent');
    expect(pod.spec.nodeName).toBe('standin-node');
    expect(pod.metadata.ownerReferences[0].kind).toBe('DaemonSet');
  }, 90_000);

  it('completes a Job: its Pod runs, exits 0 and Succeeds', async () => {
    await applyServerSide(ns.name, job('migrate', completingJobImage().ref));
    await kubectl(['wait', '--for=condition=complete', 'job/migrate', '--timeout=60s'], {
      namespace: ns.name,
      timeoutMs: 70_000,
    });
    const [pod] = await jobPods(ns.name, 'migrate');
    expect(pod.status.phase).toBe('Succeeded');
    expect(pod.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const j = await kubectlJson(['get', 'job', 'migrate'], { namespace: ns.name });
    expect(j.status).toMatchObject({ succeeded: 1 });
  }, 90_000);

  it(
    'fails a Job whose image `fails`: exit code 1, retried up to backoffLimit, ' + 'then BackoffLimitExceeded',
    async () => {
      // backoffLimit 1: one retry (the Job controller waits ~10 s before it), then Failed.
      await applyServerSide(ns.name, job('migrate', failingJobImage().ref, { backoffLimit: 1 }));
      const result = await kubectl(['wait', '--for=condition=complete', 'job/migrate', '--timeout=5s'], {
        namespace: ns.name,
        allowFailure: true,
        timeoutMs: 30_000,
      });
      expect(result.code).not.toBe(0);
      const failed = await failedCondition(ns.name, 'migrate');
      expect(failed.reason).toBe('BackoffLimitExceeded');
      await kubectl(['wait', '--for=condition=failed', 'job/migrate', '--timeout=5s'], { namespace: ns.name });

      const pods = await jobPods(ns.name, 'migrate');
      expect(pods).toHaveLength(2);
      for (const pod of pods) {
        expect(pod.status.phase).toBe('Failed');
        expect(pod.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
        expect(pod.status.containerStatuses[0].state.terminated.message).toMatch(/exits with code 1/);
      }
    },
    90_000,
  );

  it('fails a restartPolicy OnFailure Job once its container has restarted backoffLimit times', async () => {
    await applyServerSide(ns.name, job('migrate', failingJobImage().ref, { backoffLimit: 1 }, 'OnFailure'));
    const failed = await failedCondition(ns.name, 'migrate');
    expect(failed.reason).toBe('BackoffLimitExceeded');
  }, 90_000);

  it('fails a `hanging` Job at its activeDeadlineSeconds (DeadlineExceeded)', async () => {
    await applyServerSide(ns.name, job('migrate', hangingImage().ref, { activeDeadlineSeconds: 2 }));
    const failed = await failedCondition(ns.name, 'migrate');
    expect(failed.reason).toBe('DeadlineExceeded');
  }, 90_000);

  it('creates a CronJob as batch/v1', async () => {
    await applyServerSide(
      ns.name,
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'nightly' },
        spec: {
          schedule: '0 3 * * *',
          jobTemplate: {
            spec: {
              template: {
                spec: { restartPolicy: 'Never', containers: [{ name: 'n', image: completingJobImage().ref }] },
              },
            },
          },
        },
      }),
    );
    const cron = await kubectlJson(['get', 'cronjob', 'nightly'], { namespace: ns.name });
    expect(cron.spec.schedule).toBe('0 3 * * *');
  });

  it('refuses Pods beyond a namespace ResourceQuota: the ReplicaSet reports FailedCreate', async () => {
    await applyServerSide(
      ns.name,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'pods' },
        spec: { hard: { pods: '1' } },
      }),
    );
    // The quota controller fills in status.used; until then admission refuses every Pod.
    await waitFor('quota usage', async () => {
      const q = await kubectlJson(['get', 'resourcequota', 'pods'], { namespace: ns.name });
      return q.status?.used?.pods === '0';
    });
    await applyServerSide(ns.name, deployment('web', readyImage('1').tagRef, { replicas: 3 }));
    const rsFailure = await waitFor('ReplicaFailure on the ReplicaSet', async () => {
      const [rs] = (await kubectlJson(['get', 'replicasets', '-l', 'app=web'], { namespace: ns.name })).items;
      return rs?.status?.conditions?.find((c: any) => c.type === 'ReplicaFailure' && c.status === 'True');
    });
    expect(rsFailure.reason).toBe('FailedCreate');
    expect(rsFailure.message).toMatch(/exceeded quota: pods/);
    expect(await podsOf(ns.name, 'web')).toHaveLength(1);
  }, 90_000);
});
