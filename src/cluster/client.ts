// The one boundary to @kubernetes/client-node: it builds the TLS/auth configuration in memory and sends the requests;
// we keep bodies as plain JSON (the client's typed models would drop fields we must keep, e.g. of custom kinds).
// A connection is made in steps: the KubeConfig (kubeconfig.ts: certificates, token, exec plugin, in-cluster), the
// transport (transport.ts and agents.ts: TLS, proxy), the requests with their retries (requests.ts), the discovery of
// kinds (discovery.ts); the calls below only say what to send and what the answer means.
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { ClusterApi, ListResult, MetadataListResult, ObjectMetadata } from './api.js';
import type { ClusterAuth } from './auth.js';
import type { ApiStatus } from './errors.js';
import { createDiscovery, type Discovery } from './discovery.js';
import type { InClusterEnv } from './in-cluster.js';
import { credentialOrigin, kubeConfigFor, proxyResolvesNames, withExecCredential } from './kubeconfig.js';
import { proxyFor, type ProxyEnv } from './proxy.js';
import { createRequests, type Call, type Requests } from './requests.js';
import { createTransport, type Transport } from './transport.js';
import { watchObjects } from './watch.js';
import type { Logger } from '../log.js';
import { keyOf, type KubeObject, type ObjectKey } from '../kube/object.js';
import { product } from '../kube/labels.js';

export const fieldManager = product;

/**
 * What listMetadata asks for: the list as PartialObjectMetadataList (client-go's metadata client asks the same way),
 * plain JSON only as a fallback for a server or proxy that cannot convert (listMetadata keeps the metadata of either).
 */
export const metadataListAccept = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

/** What the environment says about the network; protocol/ reads it, nothing below it touches process.env. */
export interface NetworkEnv {
  proxy: ProxyEnv;
  inCluster: InClusterEnv;
  /** The environment an exec credential plugin starts from. */
  pluginEnv: Record<string, string>;
}

export interface ConnectOptions {
  log: Logger;
  network?: NetworkEnv;
  /** Redacts a secret learnt at run time (an exec plugin's token) from every later line. */
  addSecret?: (value: string) => void;
  signal?: AbortSignal;
  userAgent?: string;
  /** Retries of idempotent requests on 429/5xx/connection errors (default 4). */
  retries?: number;
  /** The KubeConfig with the exec plugin's credential, shared by a detached copy. */
  credential?: () => Promise<KubeConfig>;
  /**
   * The connections, shared by a detached copy: its requests (the lease release, the record's last status) reuse a
   * kept-alive connection or the TLS session instead of a full handshake. The abort signal is per request, not here.
   */
  transport?: Transport;
  /** Injected for tests of the retry loop. */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What the calls share: the requests, the discovery of kinds, and what messages name. */
interface Connection extends Requests, Discovery {
  server: string;
  log: Logger;
}

export function connectCluster(auth: ClusterAuth, options: ConnectOptions): ClusterApi {
  const kc = kubeConfigFor(auth, options.network?.inCluster);
  const server = kc.getCurrentCluster()?.server ?? (auth.kind === 'in-cluster' ? '' : auth.server);
  const config = options.credential ?? credentialOnce(kc, auth, options);
  const transport = options.transport ?? transportFor(kc, config, auth, options.network);
  const userAgent = options.userAgent ?? product;
  const requests = createRequests({
    server,
    transport,
    userAgent,
    log: options.log,
    signal: options.signal,
    retries: options.retries ?? 4,
    sleep: options.sleep ?? defaultSleep,
    credentialOrigin: async () => credentialOrigin(auth, kc, await config(), options.network?.inCluster),
  });
  const discovery = createDiscovery(server, requests.json);
  const connection: Connection = { ...requests, ...discovery, server, log: options.log };
  return {
    server,
    detached: () =>
      connectCluster(auth, {
        ...options,
        credential: config,
        transport,
        ...(options.signal ? { signal: undefined, retries: 1 } : {}),
      }),
    ...readCalls(connection),
    ...writeCalls(connection),
    ...patchCalls(connection),
    podLog: (...args) => readPodLog(connection, ...args),
    watch: (...args) => watchObjects({ ...connection, transport, userAgent }, ...args),
  };
}

/** The KubeConfig whose credentials are sent, made on first use: an exec plugin runs once per script. */
function credentialOnce(kc: KubeConfig, auth: ClusterAuth, options: ConnectOptions): () => Promise<KubeConfig> {
  let withCredential: Promise<KubeConfig> | undefined;
  const plugin = {
    pluginEnv: options.network?.pluginEnv ?? {},
    timeoutMs: auth.requestTimeoutMs,
    addSecret: options.addSecret,
  };
  return () => (withCredential ??= withExecCredential(kc, plugin).then(proxyResolvesNames));
}

/** The transport: TLS from the KubeConfig, a proxy from the kubeconfig's proxy-url or the environment. */
function transportFor(
  kc: KubeConfig,
  config: () => Promise<KubeConfig>,
  auth: ClusterAuth,
  network: NetworkEnv | undefined,
): Transport {
  const kubeconfigProxy = kc.getCurrentCluster()?.proxyUrl;
  return createTransport(config, {
    requestTimeoutMs: auth.requestTimeoutMs,
    proxyFor: (url) => proxyFor(url, network?.proxy ?? {}, kubeconfigProxy),
  });
}

const describe = (verb: string, key: ObjectKey) =>
  `${verb} ${key.kind.toLowerCase()}/${key.name}${key.namespace ? ` in namespace ${key.namespace}` : ''}`;

/** One list request; `accept` asks for another representation (metadata only). */
async function listOf<Item>(
  connection: Connection,
  kind: { apiVersion: string; kind: string; namespace: string | undefined },
  labelSelector: string | undefined,
  fieldSelector: string | undefined,
  accept?: string,
) {
  const what = `list ${kind.kind.toLowerCase()}s${kind.namespace ? ` in namespace ${kind.namespace}` : ''}`;
  return connection.json<{ kind?: string; items?: Item[]; metadata?: { resourceVersion?: string } }>({
    method: 'GET',
    path: await connection.pathFor(kind),
    query: { labelSelector, fieldSelector },
    accept,
    what,
    idempotent: true,
  });
}

function readCalls(connection: Connection): Pick<ClusterApi, 'isNamespaced' | 'read' | 'list' | 'listMetadata'> {
  const { json, pathFor } = connection;
  return {
    async isNamespaced(apiVersion, kind) {
      return (await connection.resource(apiVersion, kind))?.namespaced;
    },
    async read(key) {
      return json<KubeObject>(
        { method: 'GET', path: await pathFor(key), what: describe('read', key), idempotent: true },
        true,
      );
    },
    async list(apiVersion, kind, namespace, labelSelector, fieldSelector) {
      const list = await listOf<KubeObject>(connection, { apiVersion, kind, namespace }, labelSelector, fieldSelector);
      // List items carry no apiVersion/kind; put them back so the objects stand alone.
      const items = (list?.items ?? []).map((item) => ({ ...item, apiVersion, kind }));
      return { items, resourceVersion: list?.metadata?.resourceVersion ?? '' } satisfies ListResult;
    },
    async listMetadata(apiVersion, kind, namespace, labelSelector, fieldSelector) {
      const list = await listOf<Partial<ObjectMetadata>>(
        connection,
        { apiVersion, kind, namespace },
        labelSelector,
        fieldSelector,
        metadataListAccept,
      );
      if (list?.kind !== undefined && list.kind !== 'PartialObjectMetadataList')
        connection.log.info(`the API server answered a metadata list of ${kind.toLowerCase()}s with ${list.kind}`);
      // Only the metadata is kept, whatever came (a server that ignored the Accept header sends whole objects).
      const items = (list?.items ?? [])
        .filter((item) => typeof item?.metadata === 'object' && item.metadata !== null)
        .map((item): ObjectMetadata => ({ apiVersion, kind, metadata: item.metadata! }));
      return { items, resourceVersion: list?.metadata?.resourceVersion ?? '' } satisfies MetadataListResult;
    },
  };
}

/** A write answers with the object written. */
const written = async (connection: Connection, call: Call) => (await connection.json<KubeObject>(call))!;

/** Writes of whole objects: server-side apply, create, replace. */
function writeCalls(connection: Connection): Pick<ClusterApi, 'apply' | 'create' | 'replace'> {
  const { pathFor } = connection;
  return {
    async apply(object, opts) {
      const key = keyOf(object);
      const query = {
        ...(opts?.as ? { fieldManager: opts.as } : { fieldManager, force: 'true' }),
        ...(opts?.dryRun ? { dryRun: 'All' } : {}),
      };
      // JSON is YAML: the apply-patch content type takes the object as JSON.
      return written(connection, {
        method: 'PATCH',
        path: await pathFor(key),
        query,
        body: object,
        contentType: 'application/apply-patch+yaml',
        what: describe('apply', key),
        idempotent: true,
      });
    },
    async create(object, opts) {
      const key = keyOf(object);
      const path = await pathFor({ ...key, name: undefined });
      const query = { fieldManager, ...(opts?.dryRun ? { dryRun: 'All' } : {}) };
      return written(connection, {
        method: 'POST',
        path,
        query,
        body: object,
        what: describe('create', key),
        idempotent: false,
      });
    },
    async replace(object) {
      const key = keyOf(object);
      return written(connection, {
        method: 'PUT',
        path: await pathFor(key),
        query: { fieldManager },
        body: object,
        what: describe('update', key),
        idempotent: false,
      });
    },
  };
}

/** Changes to an object named by its key: merge patches and deletion. */
function patchCalls(connection: Connection): Pick<ClusterApi, 'patchMetadata' | 'mergePatch' | 'remove'> {
  const { pathFor } = connection;
  return {
    async patchMetadata(key, metadata) {
      const body = { metadata };
      return written(connection, {
        method: 'PATCH',
        path: await pathFor(key),
        body,
        contentType: 'application/merge-patch+json',
        what: describe('update', key),
        idempotent: true,
      });
    },
    async mergePatch(key, patch, manager) {
      return written(connection, {
        method: 'PATCH',
        path: await pathFor(key),
        query: { fieldManager: manager },
        body: patch,
        contentType: 'application/merge-patch+json',
        what: describe('patch', key),
        idempotent: true,
      });
    },
    async remove(key, propagation = 'Foreground', preconditions) {
      const body = {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: propagation,
        ...(preconditions ? { preconditions } : {}),
      };
      const result = await connection.json<unknown>(
        { method: 'DELETE', path: await pathFor(key), body, what: describe('delete', key), idempotent: true },
        true,
      );
      return result !== undefined;
    },
  };
}

/** A container's log: one attempt, no retry (see ClusterApi.podLog). */
async function readPodLog(connection: Connection, ...[namespace, pod, opts]: Parameters<ClusterApi['podLog']>) {
  const what = `read the log of pod/${pod} container ${opts.container} in namespace ${namespace}`;
  const call: Call = {
    method: 'GET',
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`,
    query: {
      container: opts.container,
      tailLines: String(opts.tailLines),
      limitBytes: String(opts.limitBytes),
      ...(opts.previous ? { previous: 'true' } : {}),
    },
    what,
    idempotent: true,
    text: true,
  };
  let outcome: Awaited<ReturnType<Connection['send']>>;
  try {
    outcome = await connection.send(call);
  } catch (error) {
    throw connection.networkError(error);
  }
  if (outcome.status >= 200 && outcome.status < 300) return typeof outcome.body === 'string' ? outcome.body : '';
  throw await connection.statusError(outcome.status, outcome.body as ApiStatus | string | undefined, what);
}
