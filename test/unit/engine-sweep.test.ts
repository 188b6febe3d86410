// The sweep (src/engine/sweep.ts) on the fake cluster and its clock: its scope (a prefix, the stamp of the resource
// that created a namespace), the age of a release (the last put, not the last record), the re-check under the lock,
// and one failing namespace among many (issue 23, items 1 and 7).
import { describe, expect, test } from 'vitest';
import { deployRelease } from '../../src/engine/deploy.js';
import { lockName } from '../../src/engine/lock.js';
import { resourceScope, scopeLabel, type ResourceScope } from '../../src/engine/namespace.js';
import { lastPutAnnotation, recordName } from '../../src/engine/records.js';
import { sweepReleases, type SweepInput } from '../../src/engine/sweep.js';
import { memoryLogger } from '../../src/log.js';
import { Deadline } from '../../src/time.js';
import { FakeCluster, deploymentController } from '../support/fake-cluster.js';
import { deployInput } from '../support/fake-release.js';

const hour = 3_600_000;
const staging = resourceScope({ server: 'https://fake', sourceNamespace: 'staging', team: 'main', pipeline: 'web' });
const otherPipeline = resourceScope({
  server: 'https://fake',
  sourceNamespace: 'staging',
  team: 'main',
  pipeline: 'x',
});

function fake() {
  return deploymentController(new FakeCluster(), () => ({ pods: 'ready' }));
}

/** A put of this resource (or another, by scope) that creates its namespace. */
async function put(cluster: FakeCluster, namespace: string, scope: ResourceScope = staging, app = 'web') {
  await cluster.clock.run(deployRelease(deployInput(cluster, { app, namespace, createNamespace: true, scope })));
}

function sweepInput(
  cluster: FakeCluster,
  overrides: Partial<SweepInput> = {},
): SweepInput & { log: ReturnType<typeof memoryLogger> } {
  return {
    cluster: cluster.client(),
    log: memoryLogger(),
    clock: cluster.clock,
    app: 'web',
    deadline: new Deadline(cluster.clock, 10 * 60_000),
    holder: 'sweep',
    olderThanMs: 24 * hour,
    keep: 0,
    dryRun: false,
    namespacePrefix: 'staging-',
    scope: staging,
    ...overrides,
  } as SweepInput & { log: ReturnType<typeof memoryLogger> };
}

const namespaces = (cluster: FakeCluster) => cluster.objects('Namespace').map((n) => n.metadata.name);

describe('sweep scope (item 1)', () => {
  test('an old namespace this resource created under the prefix goes; a young one stays', async () => {
    const cluster = fake();
    await put(cluster, 'staging-1');
    await cluster.clock.advance(20 * hour);
    await put(cluster, 'staging-2');
    await cluster.clock.advance(5 * hour);
    const result = await cluster.clock.run(sweepReleases(sweepInput(cluster)));
    expect(result).toEqual({ swept: ['staging-1'], kept: ['staging-2'], leftAlone: [] });
    expect(namespaces(cluster)).toEqual(['default', 'staging-2']);
  });

  test('a namespace created by another resource for the same app (another pipeline) is never swept', async () => {
    const cluster = fake();
    await put(cluster, 'staging-9', otherPipeline);
    await cluster.clock.advance(25 * hour);
    const result = await cluster.clock.run(sweepReleases(sweepInput(cluster)));
    expect(result.swept).toEqual([]);
    expect(result.leftAlone).toEqual([
      'staging-9 (created for web by another resource (another pipeline, team, source or cluster))',
    ]);
    expect(namespaces(cluster)).toContain('staging-9');
    expect(cluster.get('v1', 'Namespace', undefined, 'staging-9')?.metadata.labels?.[scopeLabel]).toBe(
      otherPipeline.id,
    );
  });

  test('nothing outside the prefix is looked at: a production namespace made with create_namespace stays', async () => {
    const cluster = fake();
    await put(cluster, 'production');
    await cluster.clock.advance(25 * hour);
    const before = cluster.calls.length;
    const result = await cluster.clock.run(sweepReleases(sweepInput(cluster)));
    expect(result).toEqual({ swept: [], kept: [], leftAlone: [] });
    expect(namespaces(cluster)).toContain('production');
    expect(cluster.calls.slice(before).filter((c) => c.kind === 'Secret')).toEqual([]);
  });

  test('age counts from the last put: a re-put that changed nothing two hours ago keeps the release', async () => {
    const cluster = fake();
    await put(cluster, 'staging-1');
    await cluster.clock.advance(24 * hour);
    await put(cluster, 'staging-1'); // the same release: reused, no new record
    expect(cluster.objects('Secret', 'staging-1').map((s) => s.metadata.name)).toEqual([recordName('web', 1)]);
    await cluster.clock.advance(2 * hour);
    const input = sweepInput(cluster);
    const result = await cluster.clock.run(sweepReleases(input));
    expect(result).toEqual({ swept: [], kept: ['staging-1'], leftAlone: [] });
    expect(input.log.lines).toContain('sweep: keeping staging-1 (last put 2h0m ago)');
  });

  test('a put that lands between the look and the lock keeps its release (re-checked under the lock)', async () => {
    const cluster = fake();
    await put(cluster, 'staging-1');
    await cluster.clock.advance(25 * hour);
    // A put holds the release's lock when the sweep looks; 5 s later it has stamped the record and lets go.
    const now = () => new Date(cluster.clock.now()).toISOString().replace('Z', '000Z');
    const leaseKey = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: 'staging-1',
      name: lockName('web'),
    };
    cluster.seed({
      apiVersion: leaseKey.apiVersion,
      kind: leaseKey.kind,
      metadata: { name: leaseKey.name, namespace: 'staging-1' },
      spec: { holderIdentity: 'a put', leaseDurationSeconds: 30, acquireTime: now(), renewTime: now() },
    });
    cluster.clock.setTimeout(() => {
      void cluster
        .client()
        .patchMetadata(
          { apiVersion: 'v1', kind: 'Secret', namespace: 'staging-1', name: recordName('web', 1) },
          { annotations: { [lastPutAnnotation]: new Date(cluster.clock.now()).toISOString() } },
        )
        .then(() => cluster.client().remove(leaseKey));
    }, 5000);
    const input = sweepInput(cluster);
    const result = await cluster.clock.run(sweepReleases(input));
    expect(result.swept).toEqual([]);
    expect(result.leftAlone).toEqual([
      expect.stringMatching(/^staging-1 \(a put targeted it meanwhile \(last put \d+(\.\d)?s ago\)\)$/),
    ]);
    expect(cluster.get('apps/v1', 'Deployment', 'staging-1', 'web')).toBeDefined();
    expect(namespaces(cluster)).toContain('staging-1');
  });
});

describe('one namespace failing does not stop a sweep (item 7)', () => {
  test('a refused teardown (409) is reported; the other old namespaces are still swept', async () => {
    const cluster = fake();
    await put(cluster, 'staging-1');
    await put(cluster, 'staging-2');
    await cluster.clock.advance(25 * hour);
    cluster.fail({ verb: 'remove', kind: 'Deployment', namespace: 'staging-1', status: 409, message: 'conflict' });
    const input = sweepInput(cluster);
    const result = await cluster.clock.run(sweepReleases(input));
    expect(result.swept).toEqual(['staging-2']);
    expect(result.leftAlone).toEqual([expect.stringMatching(/^staging-1 \(could not tear down: .*conflict/)]);
    expect(input.log.lines).toContainEqual(
      expect.stringMatching(/^warning: sweep: could not tear down release web in namespace staging-1: /),
    );
  });

  test('a record naming a kind the server no longer knows (CRD uninstalled) does not stop the teardown', async () => {
    const cluster = fake();
    cluster.defineKind('example.com/v1', 'Widget', true);
    await cluster.clock.run(
      deployRelease(
        deployInput(cluster, {
          namespace: 'staging-1',
          createNamespace: true,
          scope: staging,
          manifests: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n',
        }),
      ),
    );
    await put(cluster, 'staging-2');
    await cluster.clock.advance(25 * hour);
    // The CustomResourceDefinition is uninstalled: its kind is gone, and its objects with it.
    cluster.forgetKind('example.com/v1', 'Widget');
    const result = await cluster.clock.run(sweepReleases(sweepInput(cluster)));
    expect(result.swept.sort()).toEqual(['staging-1', 'staging-2']);
  });
});

describe('what a sweep reads (issue 28)', () => {
  test('over 20 namespaces it reads whole records only of the releases it tears down', async () => {
    const cluster = fake();
    // 20 namespaces of this resource: 5 old ones go, 15 young ones stay.
    for (let i = 0; i < 5; i++) await put(cluster, `staging-old-${i}`);
    await cluster.clock.advance(30 * hour);
    for (let i = 0; i < 15; i++) await put(cluster, `staging-new-${i}`);
    await cluster.clock.advance(hour);
    const from = cluster.served.length;
    const result = await cluster.clock.run(sweepReleases(sweepInput(cluster)));
    expect(result.swept).toEqual([0, 1, 2, 3, 4].map((i) => `staging-old-${i}`));
    expect(result.kept).toHaveLength(15);
    // Every whole record the fake handed out during the sweep belongs to a swept namespace (the teardown reads what
    // it deletes); the 15 kept releases were judged by their metadata alone.
    const recordsServed = cluster.served
      .slice(from)
      .filter((s) => s.kind === 'Secret' && /^kdr-release\./.test(s.name));
    expect(recordsServed.length).toBeGreaterThan(0);
    expect(new Set(recordsServed.map((s) => s.namespace))).toEqual(new Set(result.swept));
  });
});
