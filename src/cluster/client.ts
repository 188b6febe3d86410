// The one boundary to @kubernetes/client-node: it builds the TLS/auth configuration in memory and sends the requests;
// we keep bodies as plain JSON (the client's typed models would drop fields we must keep, e.g. of custom kinds).
// The KubeConfig module alone: the package's index loads every generated API class, exec/attach/cp and ws.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import type { ClusterApi, ListResult, MetadataListResult, ObjectKey, ObjectMetadata, WatchEvent } from './api.js';
import { certificates, type ClusterAuth } from './auth.js';
import {
  describeNetworkError,
  errorForStatus,
  isRetryableNetworkError,
  StepTimeoutError,
  type ApiStatus,
  type CredentialOrigin,
} from './errors.js';
import { runExecPlugin, type ExecConfig } from './exec-credential.js';
import { readInCluster, serviceAccountTokenFile, type InClusterEnv } from './in-cluster.js';
import { proxyFor, type ProxyEnv } from './proxy.js';
import { resourcePath, type ResourceInfo, wellKnownResource } from './resources.js';
import { createTransport, type Transport } from './transport.js';
import { AbortedError, ResourceError } from '../errors.js';
import type { Logger } from '../log.js';
import { keyOf, type KubeObject } from '../kube/object.js';
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

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export function kubeConfigFor(auth: ClusterAuth, network?: NetworkEnv): KubeConfig {
  const kc = new KubeConfig();
  if (auth.kind === 'in-cluster') {
    // Missing mount or variables: exit 2 here, before any request.
    const mounted = readInCluster(network?.inCluster ?? {});
    const caPem = certificates("in_cluster: the ServiceAccount's ca.crt", mounted.caPem).pem;
    return kubeConfigFor({
      kind: 'direct',
      server: mounted.server,
      caPem,
      token: mounted.token,
      skipTlsVerify: auth.skipTlsVerify,
      requestTimeoutMs: auth.requestTimeoutMs,
    });
  }
  if (auth.kind === 'kubeconfig') {
    kc.loadFromString(auth.kubeconfig);
    if (auth.context) kc.setCurrentContext(auth.context);
    if (auth.skipTlsVerify) {
      const cluster = kc.getCurrentCluster();
      if (cluster) (cluster as { skipTLSVerify: boolean }).skipTLSVerify = true;
    }
    return kc;
  }
  // Plain http (allowed for loopback only) has no TLS to verify; the client refuses http unless told so.
  const plainHttp = auth.server.startsWith('http://');
  kc.loadFromOptions({
    clusters: [
      {
        name: 'target',
        server: auth.server,
        skipTLSVerify: auth.skipTlsVerify || plainHttp,
        ...(auth.caPem ? { caData: b64(auth.caPem) } : {}),
      },
    ],
    users: [
      {
        name: 'deployer',
        ...(auth.certPem ? { certData: b64(auth.certPem) } : {}),
        ...(auth.keyPem ? { keyData: b64(auth.keyPem) } : {}),
        ...(auth.token ? { token: auth.token } : {}),
      },
    ],
    contexts: [{ name: 'target', cluster: 'target', user: 'deployer' }],
    currentContext: 'target',
  });
  return kc;
}

type KubeconfigUser = NonNullable<ReturnType<KubeConfig['getCurrentUser']>>;

/** What a user of a kubeconfig sends: its token, its client certificate, nothing, or something else. */
function userCredential(user: KubeconfigUser | null): 'token' | 'client certificate' | 'none' | 'other' {
  if (user?.token) return 'token';
  if (user?.certData || user?.certFile) return 'client certificate';
  if (!user || (!user.authProvider && !user.username && !user.exec)) return 'none';
  return 'other';
}

/**
 * Where the credentials of the requests came from, for the message of a 401: `configured` is the KubeConfig as given
 * (an exec stanza still in it), `used` the one whose credentials were sent (the plugin's token in place of it).
 */
export function credentialOrigin(
  auth: ClusterAuth,
  configured: KubeConfig,
  used: KubeConfig,
  network?: NetworkEnv,
): CredentialOrigin {
  if (auth.kind === 'direct') return { kind: 'source', credential: auth.token ? 'token' : 'client certificate' };
  if (auth.kind === 'in-cluster')
    return { kind: 'service-account', tokenFile: serviceAccountTokenFile(network?.inCluster ?? {}) };
  const user = configured.getCurrentUser();
  const sent = userCredential(used.getCurrentUser());
  if (user?.exec) {
    const command = String((user.exec as ExecConfig).command);
    return { kind: 'exec', command, user: user.name, credential: sent === 'token' ? 'token' : 'client certificate' };
  }
  return { kind: 'kubeconfig', user: user?.name ?? '', credential: sent };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The KubeConfig with an exec plugin's credential in place of the `exec` stanza: the plugin runs once per script,
 * bounded by the request timeout (the library's own runner has no bound).
 */
async function withExecCredential(kc: KubeConfig, auth: ClusterAuth, options: ConnectOptions): Promise<KubeConfig> {
  const user = kc.getCurrentUser() as (ReturnType<KubeConfig['getCurrentUser']> & { exec?: ExecConfig | null }) | null;
  if (!user?.exec) return kc;
  const cluster = kc.getCurrentCluster();
  const credential = await runExecPlugin(user.exec, {
    user: user.name,
    baseEnv: options.network?.pluginEnv ?? {},
    timeoutMs: auth.requestTimeoutMs,
    addSecret: options.addSecret,
    cluster: cluster
      ? {
          server: cluster.server,
          ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}),
          ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
          ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
          ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
        }
      : undefined,
  });
  const replaced = {
    ...user,
    exec: null,
    ...(credential.token ? { token: credential.token } : {}),
    ...(credential.clientCertificateData && credential.clientKeyData
      ? { certData: b64(credential.clientCertificateData), keyData: b64(credential.clientKeyData) }
      : {}),
  };
  const next = new KubeConfig();
  next.loadFromOptions({
    clusters: kc.clusters,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
    users: kc.users.map((u) => (u.name === user.name ? replaced : u)),
  });
  return next;
}

/**
 * As kubectl (Go's SOCKS5 dialer) does: a `socks5://` proxy-url hands the proxy the API server's host name to resolve.
 * The client library's SOCKS agent would resolve it here first (its `socks5h://` does not), which fails where only the
 * proxy's side knows the name.
 */
function proxyResolvesNames(kc: KubeConfig): KubeConfig {
  const current = kc.getCurrentCluster();
  const proxyUrl = current?.proxyUrl;
  if (!current || !proxyUrl || !/^socks5:\/\//i.test(proxyUrl)) return kc;
  const next = new KubeConfig();
  next.loadFromOptions({
    clusters: kc.clusters.map((c) =>
      c.name === current.name ? { ...c, proxyUrl: proxyUrl.replace(/^socks5:/i, 'socks5h:') } : c,
    ),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
  });
  return next;
}

export function connectCluster(auth: ClusterAuth, options: ConnectOptions): ClusterApi {
  const kc = kubeConfigFor(auth, options.network);
  const server = kc.getCurrentCluster()?.server ?? (auth.kind === 'in-cluster' ? '' : auth.server);
  const kubeconfigProxy = kc.getCurrentCluster()?.proxyUrl;
  let withCredential: Promise<KubeConfig> | undefined;
  // A detached copy shares the plugin's credential: the plugin runs once per script.
  const config =
    options.credential ?? (() => (withCredential ??= withExecCredential(kc, auth, options).then(proxyResolvesNames)));
  const transport =
    options.transport ??
    createTransport(config, {
      requestTimeoutMs: auth.requestTimeoutMs,
      proxyFor: (url) => proxyFor(url, options.network?.proxy ?? {}, kubeconfigProxy),
    });
  const discovered = new Map<string, Promise<Map<string, ResourceInfo>>>();
  const retries = options.retries ?? 4;
  const sleep = options.sleep ?? defaultSleep;
  const userAgent = options.userAgent ?? product;

  interface Call {
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
    path: string;
    query?: Record<string, string | undefined>;
    body?: unknown;
    contentType?: string;
    /** The Accept header (default: plain JSON). */
    accept?: string;
    /** What we were doing, for messages: "apply deployment/web in namespace staging". */
    what: string;
    idempotent: boolean;
    /** The body as text, never parsed (a container log that happens to be JSON is still a log). */
    text?: true;
  }

  async function send(call: Call): Promise<{ status: number; body: unknown; headers: Record<string, string> }> {
    const url = new URL(server.replace(/\/+$/, '') + call.path);
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const accept = call.accept ?? (call.text ? 'text/plain, application/json' : 'application/json');
    const headers: Record<string, string> = { Accept: accept, 'User-Agent': userAgent };
    const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
    if (payload !== undefined) headers['Content-Type'] = call.contentType ?? 'application/json';
    const response = await transport.request(call.method, url, headers, payload, options.signal);
    let body: unknown = response.text;
    // A refusal is a Status object even then: only a successful text answer stays text.
    if (call.text && response.status >= 200 && response.status < 300) return { ...response, body };
    try {
      body = response.text ? JSON.parse(response.text) : undefined;
    } catch {
      /* not JSON: keep the text for the message */
    }
    return { status: response.status, body, headers: response.headers };
  }

  async function request(call: Call): Promise<{ status: number; body: unknown }> {
    // A step that timed out is tried once more at most: check and in end within about twice request_timeout.
    let timeouts = 0;
    for (let attempt = 0; ; attempt++) {
      if (options.signal?.aborted)
        throw options.signal.reason instanceof Error ? options.signal.reason : new AbortedError('aborted');
      let outcome: { status: number; body: unknown; headers: Record<string, string> } | undefined;
      let failure: unknown;
      try {
        outcome = await send(call);
      } catch (error) {
        if (options.signal?.aborted)
          throw options.signal.reason instanceof Error ? options.signal.reason : new AbortedError('aborted');
        failure = error;
      }
      const timedOut = failure instanceof StepTimeoutError ? failure : undefined;
      if (timedOut) timeouts++;
      const retryable = outcome
        ? outcome.status === 429 || outcome.status >= 500
        : isRetryableNetworkError(failure) && timeouts < 2;
      // A request cut before it was sent (connect, TLS) is safe to send again, idempotent or not.
      const resendable = call.idempotent || outcome?.status === 429 || timedOut?.beforeSending === true;
      if (!retryable || !resendable || attempt >= retries) {
        if (outcome) return outcome;
        // Ours already (an exec plugin that failed): as it is.
        if (failure instanceof ResourceError) throw failure;
        throw describeNetworkError(failure, server);
      }
      const retryAfter = Number(outcome?.headers['retry-after']);
      const delay =
        Number.isFinite(retryAfter) && retryAfter > 0
          ? Math.min(retryAfter * 1000, 10_000)
          : Math.min(500 * 2 ** attempt, 8000);
      const why = outcome ? `the API server answered ${outcome.status}` : describeNetworkError(failure, server).message;
      options.log.info(
        `retrying ${call.what} in ${(delay / 1000).toFixed(1)}s (attempt ${attempt + 2} of ${retries + 1}): ${why}`,
      );
      await sleep(delay);
    }
  }

  /** The error for a status the API server answered; a 401 names where our credentials came from. */
  async function statusError(status: number, body: ApiStatus | string | undefined, what: string) {
    const origin = status === 401 ? credentialOrigin(auth, kc, await config(), options.network) : undefined;
    return errorForStatus(status, body, what, server, origin);
  }

  async function json<T>(call: Call, accept404 = false): Promise<T | undefined> {
    const { status, body } = await request(call);
    if (status >= 200 && status < 300) return body as T;
    if (status === 404 && accept404) return undefined;
    throw await statusError(status, body as ApiStatus | string | undefined, call.what);
  }

  async function groupResources(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    let pending = discovered.get(apiVersion);
    if (!pending) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      pending = json<{ resources: { name: string; kind: string; namespaced: boolean }[] }>(
        { method: 'GET', path, what: `discover ${apiVersion}`, idempotent: true },
        true,
      ).then(
        (list) =>
          new Map(
            (list?.resources ?? [])
              .filter((r) => !r.name.includes('/'))
              .map((r) => [r.kind, { plural: r.name, namespaced: r.namespaced }]),
          ),
      );
      discovered.set(apiVersion, pending);
    }
    return pending;
  }

  async function resource(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    return wellKnownResource(apiVersion, kind) ?? (await groupResources(apiVersion)).get(kind);
  }

  async function pathFor(key: Omit<ObjectKey, 'name'> & { name?: string }): Promise<string> {
    const info = await resource(key.apiVersion, key.kind);
    if (!info)
      throw errorForStatus(
        404,
        `the server does not know ${key.kind} in ${key.apiVersion}`,
        `find ${key.kind}`,
        server,
      );
    return resourcePath(key.apiVersion, info, info.namespaced ? key.namespace : undefined, key.name);
  }

  /** One list request; `accept` asks for another representation (metadata only). */
  async function listOf<Item>(
    kind: { apiVersion: string; kind: string; namespace: string | undefined },
    labelSelector: string | undefined,
    fieldSelector: string | undefined,
    accept?: string,
  ) {
    const what = `list ${kind.kind.toLowerCase()}s${kind.namespace ? ` in namespace ${kind.namespace}` : ''}`;
    return json<{ kind?: string; items?: Item[]; metadata?: { resourceVersion?: string } }>({
      method: 'GET',
      path: await pathFor(kind),
      query: { labelSelector, fieldSelector },
      accept,
      what,
      idempotent: true,
    });
  }

  const describe = (verb: string, key: ObjectKey) =>
    `${verb} ${key.kind.toLowerCase()}/${key.name}${key.namespace ? ` in namespace ${key.namespace}` : ''}`;

  return {
    server,
    detached: () =>
      connectCluster(auth, {
        ...options,
        credential: config,
        transport,
        ...(options.signal ? { signal: undefined, retries: 1 } : {}),
      }),
    async isNamespaced(apiVersion, kind) {
      return (await resource(apiVersion, kind))?.namespaced;
    },
    async read(key) {
      return json<KubeObject>(
        { method: 'GET', path: await pathFor(key), what: describe('read', key), idempotent: true },
        true,
      );
    },
    async list(apiVersion, kind, namespace, labelSelector, fieldSelector) {
      const list = await listOf<KubeObject>({ apiVersion, kind, namespace }, labelSelector, fieldSelector);
      // List items carry no apiVersion/kind; put them back so the objects stand alone.
      const items = (list?.items ?? []).map((item) => ({ ...item, apiVersion, kind }));
      return { items, resourceVersion: list?.metadata?.resourceVersion ?? '' } satisfies ListResult;
    },
    async listMetadata(apiVersion, kind, namespace, labelSelector, fieldSelector) {
      const list = await listOf<Partial<ObjectMetadata>>(
        { apiVersion, kind, namespace },
        labelSelector,
        fieldSelector,
        metadataListAccept,
      );
      if (list?.kind !== undefined && list.kind !== 'PartialObjectMetadataList')
        options.log.info(`the API server answered a metadata list of ${kind.toLowerCase()}s with ${list.kind}`);
      // Only the metadata is kept, whatever came (a server that ignored the Accept header sends whole objects).
      const items = (list?.items ?? [])
        .filter((item) => typeof item?.metadata === 'object' && item.metadata !== null)
        .map((item): ObjectMetadata => ({ apiVersion, kind, metadata: item.metadata! }));
      return { items, resourceVersion: list?.metadata?.resourceVersion ?? '' } satisfies MetadataListResult;
    },
    async apply(object, opts) {
      const key = keyOf(object);
      const query = {
        ...(opts?.as ? { fieldManager: opts.as } : { fieldManager, force: 'true' }),
        ...(opts?.dryRun ? { dryRun: 'All' } : {}),
      };
      // JSON is YAML: the apply-patch content type takes the object as JSON.
      return (await json<KubeObject>({
        method: 'PATCH',
        path: await pathFor(key),
        query,
        body: object,
        contentType: 'application/apply-patch+yaml',
        what: describe('apply', key),
        idempotent: true,
      }))!;
    },
    async create(object, opts) {
      const key = keyOf(object);
      const path = await pathFor({ ...key, name: undefined });
      const query = { fieldManager, ...(opts?.dryRun ? { dryRun: 'All' } : {}) };
      return (await json<KubeObject>({
        method: 'POST',
        path,
        query,
        body: object,
        what: describe('create', key),
        idempotent: false,
      }))!;
    },
    async replace(object) {
      const key = keyOf(object);
      return (await json<KubeObject>({
        method: 'PUT',
        path: await pathFor(key),
        query: { fieldManager },
        body: object,
        what: describe('update', key),
        idempotent: false,
      }))!;
    },
    async patchMetadata(key, metadata) {
      const body = { metadata };
      return (await json<KubeObject>({
        method: 'PATCH',
        path: await pathFor(key),
        body,
        contentType: 'application/merge-patch+json',
        what: describe('update', key),
        idempotent: true,
      }))!;
    },
    async mergePatch(key, patch, manager) {
      return (await json<KubeObject>({
        method: 'PATCH',
        path: await pathFor(key),
        query: { fieldManager: manager },
        body: patch,
        contentType: 'application/merge-patch+json',
        what: describe('patch', key),
        idempotent: true,
      }))!;
    },
    async podLog(namespace, pod, opts) {
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
      let outcome: Awaited<ReturnType<typeof send>>;
      try {
        outcome = await send(call);
      } catch (error) {
        if (options.signal?.aborted)
          throw options.signal.reason instanceof Error ? options.signal.reason : new AbortedError('aborted');
        if (error instanceof ResourceError) throw error;
        throw describeNetworkError(error, server);
      }
      if (outcome.status >= 200 && outcome.status < 300) return typeof outcome.body === 'string' ? outcome.body : '';
      throw await statusError(outcome.status, outcome.body as ApiStatus | string | undefined, what);
    },
    async remove(key, propagation = 'Foreground', preconditions) {
      const body = {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: propagation,
        ...(preconditions ? { preconditions } : {}),
      };
      const result = await json<unknown>(
        { method: 'DELETE', path: await pathFor(key), body, what: describe('delete', key), idempotent: true },
        true,
      );
      return result !== undefined;
    },
    async watch(apiVersion, kind, namespace, opts, onEvent, onEnd) {
      const path = await pathFor({ apiVersion, kind, namespace });
      const query: Record<string, string> = { allowWatchBookmarks: 'true' };
      if (opts.labelSelector) query.labelSelector = opts.labelSelector;
      if (opts.fieldSelector) query.fieldSelector = opts.fieldSelector;
      if (opts.resourceVersion) query.resourceVersion = opts.resourceVersion;
      const url = new URL(server.replace(/\/+$/, '') + path);
      for (const [k, v] of Object.entries({ ...query, watch: 'true' })) url.searchParams.set(k, v);
      const what = `watch ${kind.toLowerCase()}s${namespace ? ` in namespace ${namespace}` : ''}`;
      const stop = transport.stream(
        url,
        { Accept: 'application/json', 'User-Agent': userAgent },
        (line) => {
          let event: { type?: string; object?: KubeObject };
          try {
            event = JSON.parse(line) as typeof event;
          } catch {
            return; // a partial line of a cut stream
          }
          if (event.type && event.object)
            onEvent({ type: event.type as WatchEvent['type'], object: { ...event.object, apiVersion, kind } });
        },
        (error) => {
          // A refused watch (403, 404, 410…) ends with the HTTP status: make it one of ours.
          const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
          // A watch cut by a bound is worth a line: the caller resumes it, but the network is misbehaving.
          if (error instanceof StepTimeoutError)
            options.log.info(`${what} ended: ${describeNetworkError(error, server).message}`);
          // A 401 names where our credentials came from, which may need the exec plugin's answer: asynchronous.
          if (status === 401) void statusError(status, undefined, what).then(onEnd, onEnd);
          else onEnd(typeof status === 'number' ? errorForStatus(status, undefined, what, server) : error);
        },
        // Without a byte for this long (bookmarks come every minute or so), the watch is taken for dead and resumed.
        90_000,
      );
      return { stop };
    },
  };
}
