// restart: true — what `kubectl rollout restart` does, inside a put: the Pod-template annotation with the time, a new
// ReplicaSet waited for, no new revision for an unchanged release, and no second rollout on the next plain put.
import { describe, expect, test } from 'vitest';
import { restartedAtAnnotation, restartFieldManager } from '../../src/engine/apply.js';
import { deployRelease } from '../../src/engine/deploy.js';
import type { KubeObject } from '../../src/kube/object.js';
import { planPut } from '../../src/request/plan.js';
import { BadRequestError, RolloutFailedError } from '../../src/errors.js';
import { deployInput, fakeWithController } from '../support/fake-release.js';

const source = { app: 'web', cluster_url: 'https://k8s.example.com', token: 'a-token-for-the-tests', namespace: 'ns' };
const annotationOf = (deployment: KubeObject | undefined) =>
  (deployment?.spec as { template?: { metadata?: { annotations?: Record<string, string> } } } | undefined)?.template
    ?.metadata?.annotations?.[restartedAtAnnotation];

describe('restart: true', () => {
  test('params: a boolean, off by default, not with delete or dry_run', () => {
    expect(planPut({ source, params: { image_ref: 'x:1' } }, {})).toMatchObject({ restart: false });
    expect(planPut({ source, params: { revision: '2', restart: true } }, {})).toMatchObject({
      action: 'redeploy',
      restart: true,
    });
    expect(() => planPut({ source, params: { delete: true, restart: true } }, {})).toThrow(
      new BadRequestError('params.restart: cannot be combined with params.delete: true'),
    );
    expect(() => planPut({ source, params: { image_ref: 'x:1', restart: true, dry_run: true } }, {})).toThrow(
      new BadRequestError('params.restart: cannot be combined with params.dry_run: true'),
    );
    expect(() => planPut({ source, params: { image_ref: 'x:1', restart: 'yes' } }, {})).toThrow(/params\.restart/);
  });

  test('re-putting the same release restarts its Pods: a new ReplicaSet, waited for, the same revision', async () => {
    const fake = fakeWithController();
    const first = await fake.clock.run(deployRelease(deployInput(fake)));
    expect(fake.objects('ReplicaSet', 'ns')).toHaveLength(1);

    await fake.clock.advance(5000);
    const input = deployInput(fake, { restart: true });
    const second = await fake.clock.run(deployRelease(input));
    const deployment = fake.get('apps/v1', 'Deployment', 'ns', 'web');
    expect(second.restartedAt).toBe(new Date(fake.clock.now()).toISOString().replace(/\.\d+Z$/, '.000Z'));
    expect(annotationOf(deployment)).toBe(second.restartedAt);
    // A new ReplicaSet for the new template, rolled out before the put ended.
    expect(fake.objects('ReplicaSet', 'ns')).toHaveLength(2);
    expect(second.rolloutMs).toBeDefined();
    expect((deployment?.status as { observedGeneration?: number }).observedGeneration).toBe(
      deployment?.metadata.generation,
    );
    // Nothing of the release changed: the same revision, recorded once.
    expect(second).toMatchObject({ revision: first.revision, reused: true });
    expect(fake.log('mergePatch')).toEqual(['mergePatch deployment/web']);
    const managers = (deployment?.metadata.managedFields as { manager: string }[]).map((m) => m.manager);
    expect(managers).toContain(restartFieldManager);
    expect(input.log.lines).toContainEqual(expect.stringMatching(/^restarting deployment\/web \(kubectl\.kubernetes/));

    // The next plain put changes nothing: the apply does not own the annotation, so it neither removes it nor rolls.
    const third = await fake.clock.run(deployRelease(deployInput(fake)));
    expect(third.restartedAt).toBeUndefined();
    expect(annotationOf(fake.get('apps/v1', 'Deployment', 'ns', 'web'))).toBe(second.restartedAt);
    expect(fake.objects('ReplicaSet', 'ns')).toHaveLength(2);
    expect(third.changes).toContainEqual({ ref: 'deployment/web', change: 'unchanged' });
  });

  test('the wait judges the restarted generation: Pods of the restart that crash fail the put', async () => {
    const fake = fakeWithController((d) =>
      annotationOf(d) ? { pods: { waiting: 'CrashLoopBackOff', restartCount: 2 } } : { pods: 'ready' },
    );
    await fake.clock.run(deployRelease(deployInput(fake)));
    await expect(fake.clock.run(deployRelease(deployInput(fake, { restart: true })))).rejects.toThrow(
      RolloutFailedError,
    );
  });

  test('a workload this put creates is not restarted: it has just started', async () => {
    const fake = fakeWithController();
    const input = deployInput(fake, { restart: true });
    const result = await fake.clock.run(deployRelease(input));
    expect(result.restartedAt).toBeUndefined();
    expect(fake.log('mergePatch')).toEqual([]);
    expect(input.log.lines).toContain('not restarting deployment/web: created by this put, just started');
  });
});
