// A release as the engine receives it from commands/out.ts, rendered by the real manifests code, for the engine tests
// against the in-memory cluster (test/support/fake-cluster.ts).
import type { DeployInput } from '../../src/engine/deploy.js';
import type { TeardownInput } from '../../src/engine/teardown.js';
import { memoryLogger } from '../../src/log.js';
import { parseExtraManifests } from '../../src/manifests/extra.js';
import { imageReference, parseImageReference } from '../../src/manifests/image.js';
import { renderManifests } from '../../src/manifests/render.js';
import { labelKeys, managedBy } from '../../src/kube/labels.js';
import type { KubeObject } from '../../src/kube/object.js';
import { Deadline } from '../../src/time.js';
import { releaseSpec } from './golden.js';
import { FakeCluster, deploymentController, type RolloutBehaviour } from './fake-cluster.js';

export interface ReleaseOptions {
  app?: string;
  namespace?: string;
  image?: string;
  host?: string;
  replicas?: number | 'auto';
  /** Extra manifests as YAML (params.manifests). */
  manifests?: string;
}

/** The objects of a release: extra manifests (sorted by kind), then Deployment, Service, Ingress. */
export function releaseObjects(options: ReleaseOptions = {}): KubeObject[] {
  const app = options.app ?? 'web';
  const namespace = options.namespace ?? 'ns';
  const extra = options.manifests
    ? parseExtraManifests([{ path: 'extra.yml', content: options.manifests }], namespace)
    : [];
  return renderManifests(
    releaseSpec({
      app,
      namespace,
      image: parseImageReference(options.image ?? 'registry.local/team/web:1')!,
      replicas: options.replicas ?? 2,
      ...(options.host ? { host: options.host } : {}),
      extraObjects: extra,
    }),
  );
}

/** A fake cluster with namespace `ns` and a Deployment controller (every rollout succeeds unless told otherwise). */
export function fakeWithController(
  behaviour: (deployment: KubeObject) => RolloutBehaviour = () => ({ pods: 'ready' }),
): FakeCluster {
  return deploymentController(new FakeCluster({ namespaces: ['default', 'ns'] }), behaviour);
}

type Logged = { log: ReturnType<typeof memoryLogger> };
/** Test-facing knobs: `timeoutMs` becomes the operation's Deadline on the fake clock, starting now. */
type Overrides<T> = Partial<Omit<T, 'deadline'>> & { timeoutMs?: number };

export function deployInput(
  fake: FakeCluster,
  options: ReleaseOptions & Overrides<Omit<DeployInput, 'release'>> = {},
): DeployInput & Logged {
  const {
    app = 'web',
    namespace = 'ns',
    image = 'registry.local/team/web:1',
    host,
    replicas,
    manifests,
    timeoutMs = 60_000,
    ...overrides
  } = options;
  const ref = parseImageReference(image)!;
  return {
    cluster: fake.client(),
    log: memoryLogger(),
    clock: fake.clock,
    app,
    namespace,
    deadline: new Deadline(fake.clock, timeoutMs),
    holder: 'test put',
    createNamespace: false,
    mode: 'apply',
    wait: true,
    prune: false,
    onFailure: 'keep',
    dryRun: false,
    restart: false,
    historyLimit: 10,
    release: {
      image: { ...ref, ref: imageReference(ref) },
      objects: releaseObjects({ app, namespace, image, host, replicas, manifests }),
      build: {},
    },
    now: new Date(fake.clock.now()),
    ...overrides,
  } as DeployInput & Logged;
}

export function teardownInput(fake: FakeCluster, overrides: Overrides<TeardownInput> = {}): TeardownInput & Logged {
  const { timeoutMs = 60_000, ...rest } = overrides;
  return {
    cluster: fake.client(),
    log: memoryLogger(),
    clock: fake.clock,
    app: 'web',
    namespace: 'ns',
    deadline: new Deadline(fake.clock, timeoutMs),
    holder: 'test teardown',
    deleteNamespace: false,
    ...rest,
  } as TeardownInput & Logged;
}

/** An object with a release object's name but not ours (no ownership labels): someone else's. */
export function foreign(kind: 'Deployment' | 'Service' | 'ConfigMap', name: string, namespace = 'ns'): KubeObject {
  const apiVersion = kind === 'Deployment' ? 'apps/v1' : 'v1';
  return { apiVersion, kind, metadata: { name, namespace, labels: { owner: 'someone-else' } } };
}

/** The ownership labels of a release, for objects a test plants as if an earlier put had made them. */
export const ownedBy = (app: string) => ({
  [labelKeys.instance]: app,
  [labelKeys.name]: app,
  [labelKeys.managedBy]: managedBy,
});
