// The kubelet stand-in: the only simulated part of the test cluster (see docs/cluster.md).
//
// A real kube-apiserver and kube-controller-manager run, but no kubelet (no container runtime here).
// This daemon does what a kubelet does as far as the API can see: it registers a Node, binds
// unscheduled Pods to it (there is no scheduler either), writes Pod status through the /status
// subresource, emits kubelet-like Events for failures, and finalizes Pods being deleted.
// What a container "does" follows from its image name:
//   repository contains `unpullable`        → ErrImagePull, then ImagePullBackOff (Pod stays Pending)
//   repository contains `crashing` or `fails` → exits with code 1: restarted (CrashLoopBackOff, restartCount
//                                              rising every few seconds) under restartPolicy Always/OnFailure;
//                                              terminated, Pod Failed under restartPolicy Never
//   repository contains `hanging`           → Running but never Ready, never exits
//   anything else                            → Running and Ready after STANDIN_READY_DELAY_MS; under restartPolicy
//                                              Never/OnFailure (Job Pods) it exits 0 after STANDIN_RUN_MS more
//                                              (Pod Succeeded)
//
// Like a kubelet of the cluster's version it also renews its Node's Lease in kube-node-lease every 10 s (the
// heartbeat the node lifecycle controller reads), and writes the Pod status fields a current kubelet writes
// (observedGeneration on the status and its conditions, PodReadyToStartContainers, hostIPs/podIPs).
//
// It serves container logs as a kubelet does (kubelet-logs.ts): the API server's pods/log asks it.
//
// Run with Node 24 (type stripping):
//   node test/cluster/kubelet-standin.ts --kubeconfig FILE [--node-name NAME] [--kube-version vX.Y.Z]
//     [--port N --tls-cert-file FILE --tls-private-key-file FILE --client-ca-file FILE]
// Env: STANDIN_READY_DELAY_MS (300), STANDIN_RUN_MS (300), STANDIN_CRASH_INTERVAL_MS (2000),
//      STANDIN_PULL_BACKOFF_MS (1000), STANDIN_CONCURRENCY (8).

import https from 'node:https';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { serveContainerLogs } from './kubelet-logs.ts';

type Json = Record<string, any>;

const { values: args } = parseArgs({
  options: {
    kubeconfig: { type: 'string', default: process.env.KUBECONFIG },
    'node-name': { type: 'string', default: process.env.STANDIN_NODE_NAME ?? 'standin-node' },
    // The version this kubelet reports (Node status, User-Agent): the cluster's, so version skew checks see a match.
    'kube-version': { type: 'string', default: 'v1.37.2' },
    // As a kubelet's flags: its HTTPS endpoint (container logs, kubelet-logs.ts) and the certificates it serves with
    // and trusts clients by. Without the certificates, no endpoint (pods/log then fails as with a kubelet down).
    port: { type: 'string', default: '10250' },
    'tls-cert-file': { type: 'string' },
    'tls-private-key-file': { type: 'string' },
    'client-ca-file': { type: 'string' },
  },
});
const KUBELET_PORT = Number.parseInt(args.port as string, 10);
const KUBE_VERSION = args['kube-version'] as string;
const NODE_NAME = args['node-name'] as string;
const READY_DELAY_MS = intEnv('STANDIN_READY_DELAY_MS', 300);
const RUN_MS = intEnv('STANDIN_RUN_MS', 300);
const CRASH_INTERVAL_MS = intEnv('STANDIN_CRASH_INTERVAL_MS', 2000);
const PULL_BACKOFF_MS = intEnv('STANDIN_PULL_BACKOFF_MS', 1000);
const CONCURRENCY = intEnv('STANDIN_CONCURRENCY', 8);
const USER_AGENT = `kubelet-standin/${KUBE_VERSION}`;

function intEnv(name: string, fallback: number): number {
  const value = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// A minimal API client over node:https (keep-alive, credentials from the kubeconfig).

class ApiError extends Error {
  status: number;
  body: string;
  constructor(status: number, body: string, what: string) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
    this.status = status;
    this.body = body;
  }
}

const kc = new KubeConfig();
if (args.kubeconfig) kc.loadFromFile(args.kubeconfig);
else kc.loadFromDefault();
const server = new URL(kc.getCurrentCluster()?.server ?? 'https://127.0.0.1:6443');
const tlsOptions: https.RequestOptions = {};
await kc.applyToHTTPSOptions(tlsOptions);
const agent = new https.Agent({
  keepAlive: true,
  maxSockets: CONCURRENCY + 4,
  ca: tlsOptions.ca,
  cert: tlsOptions.cert,
  key: tlsOptions.key,
  rejectUnauthorized: tlsOptions.rejectUnauthorized,
});

function rawRequest(method: string, path: string, body?: unknown, contentType = 'application/json') {
  return new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      {
        protocol: server.protocol,
        hostname: server.hostname,
        port: server.port,
        path,
        method,
        agent,
        headers: {
          ...(tlsOptions.headers as Json | undefined),
          'User-Agent': USER_AGENT,
          Accept: 'application/json',
          ...(payload === undefined
            ? {}
            : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }),
        },
      },
      resolve,
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function api(method: string, path: string, body?: unknown, contentType?: string): Promise<Json> {
  // Retries transient failures (network, 429, 5xx) a few times; other errors go to the caller.
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await rawRequest(method, path, body, contentType);
      let text = '';
      res.setEncoding('utf8');
      for await (const chunk of res) text += chunk;
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return text ? JSON.parse(text) : {};
      throw new ApiError(status, text, `${method} ${path}`);
    } catch (err) {
      const transient = !(err instanceof ApiError) || err.status === 429 || err.status >= 500;
      if (!transient || attempt >= 5) throw err;
      await sleep(200 * 2 ** attempt);
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const isStatus = (err: unknown, ...codes: number[]) => err instanceof ApiError && codes.includes(err.status);
const podPath = (ns: string, name: string) =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;

// ---------------------------------------------------------------------------------------------
// Node registration (a kubelet registers its Node with status on create).

const NODE_IP = '127.0.0.1';

function nodeStatus(): Json {
  const now = new Date().toISOString();
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  const capacity = { cpu: '64', memory: '256Gi', pods: '1000', 'ephemeral-storage': '500Gi' };
  return {
    capacity,
    allocatable: capacity,
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      condition('Ready', 'True', 'KubeletReady', 'kubelet stand-in is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: NODE_IP },
      { type: 'Hostname', address: NODE_NAME },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
    nodeInfo: {
      machineID: '',
      systemUUID: '',
      bootID: '',
      kernelVersion: '',
      osImage: 'kubelet stand-in',
      containerRuntimeVersion: 'standin://0',
      kubeletVersion: KUBE_VERSION,
      kubeProxyVersion: KUBE_VERSION,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

async function registerNode(): Promise<void> {
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: NODE_NAME,
      labels: { 'kubernetes.io/hostname': NODE_NAME, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' },
    },
    status: nodeStatus(),
  };
  try {
    await api('POST', '/api/v1/nodes', node);
    log(`registered node ${NODE_NAME}`);
  } catch (err) {
    if (!isStatus(err, 409)) throw err;
  }
  // Either way (new or left from before), post a fresh ready status.
  await api('PATCH', `/api/v1/nodes/${NODE_NAME}/status`, { status: nodeStatus() }, 'application/merge-patch+json');
  await removeConditionTaints();
}

// The API server's admission taints a new Node `node.kubernetes.io/not-ready:NoSchedule`; the node lifecycle
// controller (not run here) lifts it once the Node is Ready. The DaemonSet controller does not tolerate it, so the
// stand-in lifts it for its own Node, as that controller would.
const conditionTaints = new Set([
  'node.kubernetes.io/not-ready',
  'node.kubernetes.io/unreachable',
  'node.kubernetes.io/memory-pressure',
  'node.kubernetes.io/disk-pressure',
  'node.kubernetes.io/pid-pressure',
  'node.kubernetes.io/network-unavailable',
]);

async function removeConditionTaints(): Promise<void> {
  const node = await api('GET', `/api/v1/nodes/${NODE_NAME}`);
  const taints: Json[] = node.spec?.taints ?? [];
  const kept = taints.filter((t) => !conditionTaints.has(t.key));
  if (kept.length === taints.length) return;
  // A merge patch replaces the list; the resourceVersion makes it conditional on what we read.
  await api(
    'PATCH',
    `/api/v1/nodes/${NODE_NAME}`,
    {
      metadata: { resourceVersion: node.metadata.resourceVersion },
      spec: { taints: kept.length ? kept : null },
    },
    'application/merge-patch+json',
  );
  log(
    `lifted taints ${taints
      .filter((t) => conditionTaints.has(t.key))
      .map((t) => `${t.key}:${t.effect}`)
      .join(', ')}`,
  );
}

// ---------------------------------------------------------------------------------------------
// What each container does, from its image name.

/** `crashing` = the container exits with code 1 (what follows depends on the Pod's restartPolicy). */
type Behaviour = 'ready' | 'unpullable' | 'crashing' | 'hanging';

/**
 * What a kubelet does with an exited container: `Always` (the default; Deployments, StatefulSets, DaemonSets)
 * restarts it; `OnFailure` restarts it only after a non-zero exit; `Never` leaves it terminated.
 */
type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

function restartPolicyOf(pod: Json): RestartPolicy {
  const policy = pod.spec?.restartPolicy;
  return policy === 'OnFailure' || policy === 'Never' ? policy : 'Always';
}

/** The image reference without tag or digest (`registry/path/name`). */
function repositoryOf(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > lastSlash ? noDigest.slice(0, colon) : noDigest;
}

function behaviourOf(image: string): Behaviour {
  const repository = repositoryOf(image);
  if (repository.includes('unpullable')) return 'unpullable';
  if (repository.includes('crashing') || repository.includes('fails')) return 'crashing';
  if (repository.includes('hanging')) return 'hanging';
  return 'ready';
}

const hex = (text: string) => createHash('sha256').update(text).digest('hex');
const imageIdOf = (image: string) =>
  image.includes('@') ? `docker-pullable://${image}` : `docker-pullable://${repositoryOf(image)}@sha256:${hex(image)}`;

// ---------------------------------------------------------------------------------------------
// Per-pod simulation state. Everything a status write needs is kept here so that rewriting the
// status (e.g. a crash restart) keeps timestamps and IPs stable.

interface PodState {
  key: string; // uid
  namespace: string;
  name: string;
  pod: Json; // the latest object seen
  firstSeen: number; // ms: when this stand-in first saw it bound to the node
  startTime: string;
  podIP: string;
  restartCount: number;
  lastCrash: number; // ms of the latest simulated crash (crashing images)
  lastWritten: string; // fingerprint of the last status written, to skip no-op writes
  events: Set<string>; // events already emitted (reason|container)
  timer?: NodeJS.Timeout;
  finalizing: boolean;
}

const states = new Map<string, PodState>();
let ipCounter = 0;

function nextPodIP(): string {
  ipCounter = (ipCounter + 1) % (250 * 250);
  return `10.244.${Math.floor(ipCounter / 250)}.${(ipCounter % 250) + 2}`;
}

function stateFor(pod: Json): PodState {
  const key = pod.metadata.uid as string;
  let state = states.get(key);
  if (!state) {
    // After a stand-in restart, continue from the status already written.
    const existing: Json[] = pod.status?.containerStatuses ?? [];
    state = {
      key,
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      pod,
      firstSeen: Date.now(),
      startTime: pod.status?.startTime ?? new Date().toISOString(),
      podIP: pod.status?.podIP ?? nextPodIP(),
      restartCount: Math.max(0, ...existing.map((c) => c.restartCount ?? 0)),
      lastCrash: Date.now(),
      lastWritten: '',
      events: new Set(),
      finalizing: false,
    };
    if (pod.status?.phase && pod.status.phase !== 'Pending') state.firstSeen -= READY_DELAY_MS + PULL_BACKOFF_MS;
    states.set(key, state);
  }
  state.pod = pod;
  return state;
}

function forget(key: string): void {
  const state = states.get(key);
  if (state?.timer) clearTimeout(state.timer);
  states.delete(key);
  queued.delete(key);
}

// ---------------------------------------------------------------------------------------------
// A keyed work queue: a pod is never worked on by two workers at once, a pod re-queued while being
// worked on is worked on again afterwards (with its latest object), and at most CONCURRENCY pods
// are in flight, so hundreds of Pods don't flood the apiserver.

const queue: string[] = [];
const queued = new Set<string>();
const active = new Set<string>();
const again = new Set<string>();
let running = 0;

function enqueue(key: string): void {
  if (active.has(key)) {
    again.add(key);
    return;
  }
  if (queued.has(key)) return;
  queued.add(key);
  queue.push(key);
  pump();
}

function pump(): void {
  while (running < CONCURRENCY && queue.length > 0) {
    const key = queue.shift() as string;
    if (!queued.delete(key)) continue; // forgotten meanwhile
    const state = states.get(key);
    if (!state) continue;
    running++;
    active.add(key);
    sync(state)
      .catch((err) => log(`pod ${state.namespace}/${state.name}: ${err instanceof Error ? err.message : err}`))
      .finally(() => {
        running--;
        active.delete(key);
        if (again.delete(key) && states.has(key)) enqueue(key);
        pump();
      });
  }
}

function enqueueAfter(state: PodState, ms: number): void {
  if (state.timer) clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    state.timer = undefined;
    if (states.get(state.key) === state) enqueue(state.key);
  }, ms);
}

// ---------------------------------------------------------------------------------------------
// Reconciling one pod.

async function sync(state: PodState): Promise<void> {
  const pod = state.pod;
  const { namespace, name } = state;

  if (pod.metadata.deletionTimestamp) {
    // A kubelet finalizes a Pod being deleted once its containers are gone: delete with grace 0.
    if (state.finalizing) return;
    state.finalizing = true;
    if (state.timer) clearTimeout(state.timer);
    try {
      await api('DELETE', podPath(namespace, name), {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        gracePeriodSeconds: 0,
        preconditions: { uid: state.key },
      });
    } catch (err) {
      if (!isStatus(err, 404, 409)) {
        state.finalizing = false;
        throw err;
      }
    }
    return;
  }
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;

  if (!pod.spec.nodeName) {
    // No scheduler runs: bind it to our node, as the scheduler would.
    try {
      await api('POST', `${podPath(namespace, name)}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid: state.key },
        target: { apiVersion: 'v1', kind: 'Node', name: NODE_NAME },
      });
    } catch (err) {
      if (!isStatus(err, 404, 409)) throw err; // gone, or bound meanwhile
    }
    return; // the watch brings the bound Pod back
  }
  if (pod.spec.nodeName !== NODE_NAME) {
    forget(state.key);
    return;
  }

  const now = Date.now();
  const elapsed = now - state.firstSeen;
  const containers: Json[] = pod.spec.containers ?? [];
  const behaviours = containers.map((c) => behaviourOf(c.image));
  const policy = restartPolicyOf(pod);

  // Crashing containers restart every CRASH_INTERVAL_MS once they have started (unless restartPolicy Never).
  if (policy !== 'Never' && behaviours.includes('crashing') && elapsed >= READY_DELAY_MS) {
    const crashes = Math.floor((now - state.lastCrash) / CRASH_INTERVAL_MS);
    if (state.restartCount === 0 || crashes > 0) {
      state.restartCount += Math.max(1, crashes);
      state.lastCrash = now;
    }
  }

  const status = podStatus(state, containers, behaviours, policy, elapsed);
  const fingerprint = JSON.stringify(status);
  if (fingerprint !== state.lastWritten) {
    try {
      await api('PATCH', `${podPath(namespace, name)}/status`, { status }, 'application/merge-patch+json');
      state.lastWritten = fingerprint;
    } catch (err) {
      if (isStatus(err, 404)) return forget(state.key);
      throw err;
    }
  }
  await emitEvents(state, containers, behaviours, policy, elapsed);

  // When does this pod's status change next?
  let next: number | undefined;
  if (elapsed < READY_DELAY_MS) next = READY_DELAY_MS - elapsed;
  else if (behaviours.includes('unpullable') && elapsed < READY_DELAY_MS + PULL_BACKOFF_MS) {
    next = READY_DELAY_MS + PULL_BACKOFF_MS - elapsed;
  } else if (policy !== 'Always' && elapsed < READY_DELAY_MS + RUN_MS && behaviours.some((b) => exits(b, policy))) {
    next = READY_DELAY_MS + RUN_MS - elapsed; // a run-to-completion container exits
  } else if (policy !== 'Never' && behaviours.includes('crashing')) next = state.lastCrash + CRASH_INTERVAL_MS - now;
  if (next !== undefined) enqueueAfter(state, Math.max(10, next));
}

/** Whether a container of this behaviour exits (and stays terminated) under a run-to-completion policy. */
function exits(behaviour: Behaviour, policy: RestartPolicy): boolean {
  return (behaviour === 'ready' && policy !== 'Always') || (behaviour === 'crashing' && policy === 'Never');
}

function podStatus(
  state: PodState,
  containers: Json[],
  behaviours: Behaviour[],
  policy: RestartPolicy,
  elapsed: number,
): Json {
  const started = elapsed >= READY_DELAY_MS; // image "pulled" and container started (or pull failed)
  const startedAt = new Date(state.firstSeen + READY_DELAY_MS).toISOString();
  const finished = elapsed >= READY_DELAY_MS + RUN_MS; // run-to-completion containers have exited
  const finishedAt = new Date(state.firstSeen + READY_DELAY_MS + RUN_MS).toISOString();
  const containerStatuses = containers.map((c, i) => {
    const behaviour = behaviours[i] ?? 'ready';
    const base = {
      name: c.name,
      image: c.image,
      imageID: '',
      ready: false,
      started: false,
      restartCount: 0,
      lastState: {} as Json,
      state: { waiting: { reason: 'ContainerCreating' } } as Json,
    };
    if (!started) return base;
    const containerID = `containerd://${hex(`${state.key}/${c.name}/${state.restartCount}`)}`;
    if (finished && exits(behaviour, policy)) {
      const exitCode = behaviour === 'crashing' ? 1 : 0;
      return {
        ...base,
        imageID: imageIdOf(c.image),
        containerID,
        started: false,
        state: {
          terminated: {
            exitCode,
            reason: exitCode === 0 ? 'Completed' : 'Error',
            containerID,
            startedAt,
            finishedAt,
            // What the container wrote to its terminationMessagePath, as a kubelet reports it.
            ...(exitCode === 0 ? {} : { message: `${c.name}: simulated failure (image ${c.image} exits with code 1)` }),
          },
        },
      };
    }
    if (behaviour === 'crashing' && policy === 'Never') {
      // Running until it exits (no restart follows).
      return {
        ...base,
        imageID: imageIdOf(c.image),
        containerID,
        ready: true,
        started: true,
        state: { running: { startedAt } },
      };
    }
    switch (behaviour) {
      case 'unpullable': {
        const backedOff = elapsed >= READY_DELAY_MS + PULL_BACKOFF_MS;
        return {
          ...base,
          state: {
            waiting: backedOff
              ? { reason: 'ImagePullBackOff', message: `Back-off pulling image "${c.image}"` }
              : { reason: 'ErrImagePull', message: pullError(c.image) },
          },
        };
      }
      case 'crashing':
        return {
          ...base,
          imageID: imageIdOf(c.image),
          containerID,
          restartCount: state.restartCount,
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message:
                `back-off ${Math.min(300, 10 * 2 ** Math.min(5, state.restartCount - 1))}s ` +
                `restarting failed container=${c.name} pod=${state.name}_${state.namespace}(${state.key})`,
            },
          },
          lastState: {
            terminated: {
              exitCode: 1,
              reason: 'Error',
              containerID,
              startedAt: new Date(state.lastCrash - 500).toISOString(),
              finishedAt: new Date(state.lastCrash).toISOString(),
            },
          },
        };
      case 'hanging':
        return { ...base, imageID: imageIdOf(c.image), containerID, started: true, state: { running: { startedAt } } };
      default:
        return {
          ...base,
          imageID: imageIdOf(c.image),
          containerID,
          ready: true,
          started: true,
          state: { running: { startedAt } },
        };
    }
  });

  const allReady = containerStatuses.length > 0 && containerStatuses.every((c) => c.ready);
  const anyUnpullable = started && behaviours.includes('unpullable');
  const notReady = containerStatuses.filter((c) => !c.ready).map((c) => c.name);
  // Every container exited and none will be restarted: the Pod is done (Succeeded, or Failed on a non-zero exit).
  const exitCodes = containerStatuses.map((c) => (c.state as Json).terminated?.exitCode as number | undefined);
  const completed = policy !== 'Always' && exitCodes.length > 0 && exitCodes.every((code) => code !== undefined);
  const transition = (ready: boolean) =>
    new Date(state.firstSeen + (completed ? READY_DELAY_MS + RUN_MS : ready ? READY_DELAY_MS : 0)).toISOString();
  const observedGeneration = state.pod.metadata.generation;
  const condition = (type: string, ok: boolean, at: string) => ({
    type,
    observedGeneration,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: at,
    ...(ok
      ? {}
      : completed
        ? { reason: 'PodCompleted' }
        : { reason: 'ContainersNotReady', message: `containers with unready status: [${notReady.join(' ')}]` }),
  });
  const phase =
    !started || anyUnpullable
      ? 'Pending'
      : completed
        ? exitCodes.every((code) => code === 0)
          ? 'Succeeded'
          : 'Failed'
        : 'Running';
  const initContainers: Json[] = state.pod.spec.initContainers ?? [];

  return {
    // Pending until every container has started; a crash-looping Pod is Running, as with a kubelet; a Pod
    // whose containers all exited for good is Succeeded or Failed.
    phase,
    observedGeneration,
    conditions: [
      condition('PodReadyToStartContainers', started, started ? startedAt : state.startTime),
      condition('Initialized', true, state.startTime),
      condition('Ready', allReady, transition(allReady)),
      condition('ContainersReady', allReady, transition(allReady)),
      condition('PodScheduled', true, state.startTime),
    ],
    hostIP: NODE_IP,
    hostIPs: [{ ip: NODE_IP }],
    podIP: state.podIP,
    podIPs: [{ ip: state.podIP }],
    startTime: state.startTime,
    qosClass: state.pod.status?.qosClass,
    containerStatuses,
    // Init containers simply "complete" straight away.
    ...(initContainers.length > 0
      ? {
          initContainerStatuses: initContainers.map((c) => ({
            name: c.name,
            image: c.image,
            imageID: imageIdOf(c.image),
            ready: true,
            restartCount: 0,
            state: {
              terminated: { exitCode: 0, reason: 'Completed', startedAt: state.startTime, finishedAt: state.startTime },
            },
            lastState: {},
          })),
        }
      : {}),
  };
}

function pullError(image: string): string {
  return (
    `rpc error: code = Unknown desc = failed to pull and unpack image "${image}": failed to resolve reference ` +
    `"${image}": pull access denied, repository does not exist or may require authorization: ` +
    'server message: insufficient_scope: authorization failed'
  );
}

// ---------------------------------------------------------------------------------------------
// Events, as a kubelet emits them for failing containers (each once per Pod and container).

async function emitEvents(
  state: PodState,
  containers: Json[],
  behaviours: Behaviour[],
  policy: RestartPolicy,
  elapsed: number,
) {
  if (elapsed < READY_DELAY_MS) return;
  for (const [i, c] of containers.entries()) {
    const b = behaviours[i];
    const wanted: Array<[string, string, string]> = []; // [type, reason, message]
    if (b === 'unpullable') {
      wanted.push(['Normal', 'Pulling', `Pulling image "${c.image}"`]);
      wanted.push(['Warning', 'Failed', `Failed to pull image "${c.image}": ${pullError(c.image)}`]);
      wanted.push(['Warning', 'Failed', 'Error: ErrImagePull']);
      if (elapsed >= READY_DELAY_MS + PULL_BACKOFF_MS) {
        wanted.push(['Normal', 'BackOff', `Back-off pulling image "${c.image}"`]);
        wanted.push(['Warning', 'Failed', 'Error: ImagePullBackOff']);
      }
    } else if (b === 'crashing' && policy !== 'Never') {
      wanted.push(['Warning', 'BackOff', 'Back-off restarting failed container']);
    }
    for (const [type, reason, message] of wanted) {
      const id = `${c.name}|${reason}|${message}`;
      if (state.events.has(id)) continue;
      await postEvent(state, c.name, type, reason, message);
      state.events.add(id);
    }
  }
}

async function postEvent(state: PodState, container: string, type: string, reason: string, message: string) {
  const now = new Date().toISOString();
  const event = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${state.name}.${randomBytes(8).toString('hex')}`, namespace: state.namespace },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: state.namespace,
      name: state.name,
      uid: state.key,
      resourceVersion: state.pod.metadata.resourceVersion,
      fieldPath: `spec.containers{${container}}`,
    },
    type,
    reason,
    message,
    source: { component: 'kubelet', host: NODE_NAME },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    reportingComponent: 'kubelet',
    reportingInstance: NODE_NAME,
  };
  try {
    await api('POST', `/api/v1/namespaces/${encodeURIComponent(state.namespace)}/events`, event);
  } catch (err) {
    // The namespace may be terminating (403) or gone; events are best effort, as with a kubelet.
    if (!isStatus(err, 403, 404, 409)) throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// List + watch all Pods, resuming from the last resourceVersion when the watch drops and relisting
// when that version is too old (410 Gone).

function handle(type: string, pod: Json): void {
  const key = pod?.metadata?.uid as string | undefined;
  if (!key) return;
  if (type === 'DELETED') return forget(key);
  // Pods bound elsewhere are none of our business (another node or kubelet).
  if (pod.spec?.nodeName && pod.spec.nodeName !== NODE_NAME) return forget(key);
  stateFor(pod);
  enqueue(key);
}

async function relist(): Promise<string> {
  const seen = new Set<string>();
  let cont = '';
  let resourceVersion = '';
  do {
    const list = await api('GET', `/api/v1/pods?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
    resourceVersion = list.metadata.resourceVersion;
    cont = list.metadata.continue ?? '';
    for (const pod of list.items as Json[]) {
      seen.add(pod.metadata.uid);
      handle('ADDED', pod);
    }
  } while (cont);
  // Pods deleted while we were not watching.
  for (const key of [...states.keys()]) if (!seen.has(key)) forget(key);
  log(`listed ${seen.size} pods at resourceVersion ${resourceVersion}`);
  return resourceVersion;
}

class Gone extends Error {}

/** Watches from resourceVersion until the server ends the watch; returns the last version seen. */
async function watch(resourceVersion: string): Promise<string> {
  const timeoutSeconds = 240 + Math.floor(Math.random() * 120);
  const res = await rawRequest(
    'GET',
    `/api/v1/pods?watch=1&allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}` +
      `&resourceVersion=${encodeURIComponent(resourceVersion)}`,
  );
  // The server ends the watch after timeoutSeconds; a connection silent for longer than that is dead.
  const stalled = setTimeout(() => res.destroy(new Error('watch stalled')), (timeoutSeconds + 30) * 1000);
  try {
    return await readWatch(res, resourceVersion);
  } finally {
    clearTimeout(stalled);
  }
}

async function readWatch(res: import('node:http').IncomingMessage, resourceVersion: string): Promise<string> {
  if (res.statusCode === 410) {
    res.resume();
    throw new Gone();
  }
  if (res.statusCode !== 200) {
    let text = '';
    for await (const chunk of res) text += chunk;
    throw new ApiError(res.statusCode ?? 0, text, 'watch pods');
  }
  res.setEncoding('utf8');
  let buffer = '';
  for await (const chunk of res) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (!line) continue;
      const event = JSON.parse(line) as { type: string; object: Json };
      if (event.type === 'ERROR') {
        if (event.object?.code === 410) throw new Gone();
        throw new Error(`watch error: ${JSON.stringify(event.object)}`);
      }
      resourceVersion = event.object?.metadata?.resourceVersion ?? resourceVersion;
      if (event.type !== 'BOOKMARK') handle(event.type, event.object);
    }
  }
  return resourceVersion;
}

// The Node's Lease (coordination.k8s.io/v1 in kube-node-lease), renewed as a kubelet does: the heartbeat the node
// lifecycle controller reads since Kubernetes 1.17.
const LEASE_RENEW_MS = 10_000;
const LEASE_PATH = `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE_NAME}`;
let leaseRenewing = false;

function renewLease(): void {
  if (leaseRenewing) return;
  leaseRenewing = true;
  const spec = { holderIdentity: NODE_NAME, leaseDurationSeconds: 40, renewTime: new Date().toISOString() };
  api(
    'PATCH',
    `${LEASE_PATH}?fieldManager=kubelet-standin&force=true`,
    {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: NODE_NAME, namespace: 'kube-node-lease' },
      spec: { ...spec, renewTime: spec.renewTime.replace(/Z$/, '000Z').replace(/\.(\d{6})\d*Z$/, '.$1Z') },
    },
    'application/apply-patch+yaml',
  )
    .catch((err) => log(`node lease renewal failed: ${err instanceof Error ? err.message : err}`))
    .finally(() => {
      leaseRenewing = false;
    });
}

/** Serves /containerLogs from what the stand-in knows of its Pods (their latest object, with the status it wrote). */
async function serveLogs(): Promise<void> {
  const [cert, key, ca] = [args['tls-cert-file'], args['tls-private-key-file'], args['client-ca-file']];
  if (!cert || !key || !ca) return log('no --tls-cert-file, --tls-private-key-file, --client-ca-file: no log endpoint');
  const podNamed = (namespace: string, name: string) =>
    [...states.values()].find((s) => s.namespace === namespace && s.name === name)?.pod;
  const files = { cert: readFileSync(cert), key: readFileSync(key), ca: readFileSync(ca) };
  await serveContainerLogs({ port: KUBELET_PORT, ...files, find: podNamed, log });
  log(`serving container logs on https://127.0.0.1:${KUBELET_PORT}/containerLogs/`);
}

async function main(): Promise<void> {
  log(`kubelet stand-in for node ${NODE_NAME} against ${server.origin} (ready delay ${READY_DELAY_MS} ms)`);
  await serveLogs();
  for (let attempt = 1; ; attempt++) {
    try {
      await registerNode();
      break;
    } catch (err) {
      if (attempt >= 30) throw err;
      log(`registering node failed (${err instanceof Error ? err.message : err}); retrying`);
      await sleep(1000);
    }
  }
  // Keep the Node's heartbeat fresh (cheap; a node lifecycle controller would otherwise mark it NotReady).
  setInterval(() => {
    api('PATCH', `/api/v1/nodes/${NODE_NAME}/status`, { status: nodeStatus() }, 'application/merge-patch+json').catch(
      (err) => log(`node heartbeat failed: ${err instanceof Error ? err.message : err}`),
    );
  }, 60_000).unref();
  renewLease();
  setInterval(renewLease, LEASE_RENEW_MS).unref();

  let resourceVersion = '';
  let failures = 0;
  for (;;) {
    try {
      if (!resourceVersion) resourceVersion = await relist();
      resourceVersion = await watch(resourceVersion);
      failures = 0;
    } catch (err) {
      if (err instanceof Gone) {
        log('watch resourceVersion too old (410 Gone); relisting');
        resourceVersion = '';
        continue;
      }
      failures++;
      log(`watch failed (${err instanceof Error ? err.message : err}); reconnecting`);
      await sleep(Math.min(5000, 200 * 2 ** failures));
    }
  }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    log(`${signal}: exiting`);
    process.exit(0);
  });
}

main().catch((err) => {
  log(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
  process.exit(1);
});
