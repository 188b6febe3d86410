// The release lock (src/engine/lock.ts) on the fake cluster and its clock: waiting, takeover of an expired lease,
// renewal, the timeout, and two puts of one release serialised. test/integration/reliability.test.ts proves the
// same with real processes against the real API.
import { describe, expect, test } from 'vitest';
import { deployRelease } from '../../src/engine/deploy.js';
import { acquireReleaseLock, lockName } from '../../src/engine/lock.js';
import { TimedOutError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';
import type { KubeObject } from '../../src/kube/object.js';
import { Deadline } from '../../src/time.js';
import { FakeCluster } from '../support/fake-cluster.js';
import { deployInput, fakeWithController } from '../support/fake-release.js';

const leaseKey = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'ns', name: lockName('web') };
const micro = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

/** A lease as another put holds it, renewed `agoMs` before now. */
function heldLease(fake: FakeCluster, holder: string, agoMs: number, leaseSeconds = 30): KubeObject {
  const renewed = micro(fake.clock.now() - agoMs);
  return fake.seed({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: lockName('web'), namespace: 'ns' },
    spec: { holderIdentity: holder, leaseDurationSeconds: leaseSeconds, acquireTime: renewed, renewTime: renewed },
  });
}

type LockOptions = Parameters<typeof acquireReleaseLock>[0];
/** `timeoutMs` becomes the operation's Deadline on the fake clock, starting now. */
const lockOptions = (fake: FakeCluster, overrides: Partial<LockOptions> & { timeoutMs?: number } = {}): LockOptions => {
  const { timeoutMs = 60_000, ...rest } = overrides;
  return {
    cluster: fake.client(),
    namespace: 'ns',
    app: 'web',
    holder: 'me',
    log: memoryLogger(),
    deadline: new Deadline(fake.clock, timeoutMs),
    clock: fake.clock,
    ...rest,
  };
};

describe('the release lock', () => {
  test('free: one create, held by us, removed on release', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    const lock = await fake.clock.run(acquireReleaseLock(lockOptions(fake)));
    expect(fake.get('coordination.k8s.io/v1', 'Lease', 'ns', lockName('web'))).toMatchObject({
      spec: { holderIdentity: 'me', leaseDurationSeconds: 30 },
    });
    expect(fake.log()).toEqual([`create lease/${lockName('web')}`]);
    // When this put began, on the server's clock (whole seconds): the rollout wait's bound for unchanged workloads.
    expect(lock.acquiredAt).toBe(new Date(fake.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'));
    await lock.release();
    expect(fake.objects('Lease')).toEqual([]);
  });

  test('held by a live put: waits (one line per holder) until it is released, then takes it', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    heldLease(fake, 'pipeline/job #7', 0);
    // The other put renews its lease, then finishes after 9 s.
    fake.clock.setTimeout(
      () => fake.update(leaseKey, (l) => ((l.spec as { renewTime: string }).renewTime = micro(fake.clock.now()))),
      5000,
    );
    fake.clock.setTimeout(() => void fake.client().remove(leaseKey), 9000);
    const log = memoryLogger();
    const started = fake.clock.now();
    const lock = await fake.clock.run(acquireReleaseLock(lockOptions(fake, { log, pollMs: 2000 })));
    expect(fake.clock.now() - started).toBe(10_000);
    expect(log.lines).toEqual([
      `waiting for pipeline/job #7 to finish with release web in namespace ns (lease/${lockName('web')})`,
    ]);
    expect(fake.get('coordination.k8s.io/v1', 'Lease', 'ns', lockName('web'))).toMatchObject({
      spec: { holderIdentity: 'me' },
    });
    await lock.release();
  });

  test('an expired lease (its holder died) is taken over at once, conditionally on its resourceVersion', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    const old = heldLease(fake, 'a killed put', 31_000);
    const log = memoryLogger();
    const lock = await fake.clock.run(acquireReleaseLock(lockOptions(fake, { log })));
    expect(log.lines).toEqual(['took over the expired lock of release web from a killed put']);
    const lease = fake.get('coordination.k8s.io/v1', 'Lease', 'ns', lockName('web'))!;
    expect(lease).toMatchObject({ spec: { holderIdentity: 'me' }, metadata: { uid: old.metadata.uid } });
    expect(fake.log('create', 'read', 'replace')).toEqual([
      `create lease/${lockName('web')}`,
      `read lease/${lockName('web')}`,
      `replace lease/${lockName('web')}`,
    ]);
    // Taken over now: the time of our replace, not the old lease's creation.
    expect(lock.acquiredAt).toBe(new Date(fake.clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'));
    await lock.release();
  });

  test('two puts taking over the same expired lease: one wins, the other (409) waits for it', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    heldLease(fake, 'a killed put', 31_000);
    const first = acquireReleaseLock(lockOptions(fake, { holder: 'first' }));
    const second = acquireReleaseLock(lockOptions(fake, { holder: 'second', pollMs: 1000 }));
    const winner = await fake.clock.run(Promise.race([first.then(() => 'first'), second.then(() => 'second')]));
    const holder = (
      fake.get('coordination.k8s.io/v1', 'Lease', 'ns', lockName('web'))!.spec as { holderIdentity: string }
    ).holderIdentity;
    expect(holder).toBe(winner);
    await (await (winner === 'first' ? first : second)).release();
    const other = await fake.clock.run(winner === 'first' ? second : first);
    expect(
      (fake.get('coordination.k8s.io/v1', 'Lease', 'ns', lockName('web'))!.spec as { holderIdentity: string })
        .holderIdentity,
    ).not.toBe(winner);
    await other.release();
  });

  test('held for longer than the timeout: TimedOutError after exactly the timeout, naming the holder', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    heldLease(fake, 'pipeline/job #7', 0, 3600);
    const started = fake.clock.now();
    const error = await fake.clock
      .run(acquireReleaseLock(lockOptions(fake, { timeoutMs: 10_000, pollMs: 2000 })))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimedOutError);
    expect((error as Error).message).toBe(
      `timed out after 10s waiting for pipeline/job #7 to release lease/${lockName('web')} in namespace ns`,
    );
    expect(fake.clock.now() - started).toBe(10_000);
  });

  test('renewed every third of its duration while held; renewal stops on release', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    const lock = await fake.clock.run(acquireReleaseLock(lockOptions(fake, { leaseSeconds: 30 })));
    await fake.clock.advance(35_000);
    expect(fake.log('replace')).toHaveLength(3);
    const renewTime = (
      fake.get('coordination.k8s.io/v1', 'Lease', 'ns', lockName('web'))!.spec as { renewTime: string }
    ).renewTime;
    expect(Date.parse(renewTime)).toBe(fake.clock.now() - 5000);
    await lock.release();
    await fake.clock.advance(60_000);
    expect(fake.log('replace')).toHaveLength(3);
    expect(fake.clock.pending).toBe(0);
  });

  test('a failed renewal is logged and retried at the next turn', async () => {
    const fake = new FakeCluster({ namespaces: ['ns'] });
    const log = memoryLogger();
    fake.fail({ verb: 'replace', kind: 'Lease', status: 409 });
    const lock = await fake.clock.run(acquireReleaseLock(lockOptions(fake, { log })));
    await fake.clock.advance(20_000);
    expect(log.lines[0]).toMatch(
      /^warning: could not renew lease\/kdr-lock\.web: the API server refused to update lease/,
    );
    expect(fake.log('replace')).toHaveLength(2);
    await lock.release();
  });
});

describe('two puts of one release', () => {
  test('run one after the other: the second waits for the first to release the lock', async () => {
    const fake = fakeWithController((d) => ({
      pods: 'ready',
      order: JSON.stringify(d).includes(':1') ? 'status-first' : 'pods-first',
    }));
    const one = deployInput(fake, { holder: 'put one', image: 'registry.local/team/web:1' });
    const two = deployInput(fake, { holder: 'put two', image: 'registry.local/team/web:2' });
    const [a, b] = await fake.clock.run(Promise.all([deployRelease(one), deployRelease(two)]));
    expect([a.revision, b.revision]).toEqual([1, 2]);
    expect(two.log.lines[0]).toBe(
      `waiting for put one to finish with release web in namespace ns (lease/${lockName('web')})`,
    );
    // Put two's first write comes after put one released the lock.
    const log = fake.log('create', 'apply', 'remove');
    expect(log.indexOf(`remove lease/${lockName('web')}`)).toBeLessThan(
      log.lastIndexOf(`create lease/${lockName('web')}`),
    );
    expect(log.lastIndexOf('apply deployment/web')).toBeGreaterThan(log.indexOf(`remove lease/${lockName('web')}`));
    expect(fake.get('apps/v1', 'Deployment', 'ns', 'web')!.spec).toMatchObject({
      template: { spec: { containers: [{ image: 'registry.local/team/web:2' }] } },
    });
  });
});
