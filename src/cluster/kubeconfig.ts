// The auth steps of a connection: the KubeConfig in memory, from the source's own credentials (certificates or a
// token), a kubeconfig, or the Pod's ServiceAccount; an exec plugin's credential put in place of its stanza; and, for
// the message of a 401, where the credentials that were sent came from.
// The KubeConfig module alone: the package's index loads every generated API class, exec/attach/cp and ws.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { certificates, type ClusterAuth, type DirectAuth, type InClusterAuth, type KubeconfigAuth } from './auth.js';
import type { CredentialOrigin } from './errors.js';
import { runExecPlugin, type ExecClusterInfo, type ExecConfig, type ExecResult } from './exec-credential.js';
import { readInCluster, serviceAccountTokenFile, type InClusterEnv } from './in-cluster.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export function kubeConfigFor(auth: ClusterAuth, inCluster?: InClusterEnv): KubeConfig {
  if (auth.kind === 'in-cluster') return kubeConfigFor(serviceAccountAuth(auth, inCluster ?? {}));
  if (auth.kind === 'kubeconfig') return givenKubeConfig(auth);
  return sourceKubeConfig(auth);
}

/** The mounted ServiceAccount as direct credentials. Missing mount or variables: exit 2 here, before any request. */
function serviceAccountAuth(auth: InClusterAuth, env: InClusterEnv): DirectAuth {
  const mounted = readInCluster(env);
  const caPem = certificates("in_cluster: the ServiceAccount's ca.crt", mounted.caPem).pem;
  return {
    kind: 'direct',
    server: mounted.server,
    caPem,
    token: mounted.token,
    skipTlsVerify: auth.skipTlsVerify,
    requestTimeoutMs: auth.requestTimeoutMs,
  };
}

function givenKubeConfig(auth: KubeconfigAuth): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(auth.kubeconfig);
  if (auth.context) kc.setCurrentContext(auth.context);
  if (auth.skipTlsVerify) {
    const cluster = kc.getCurrentCluster();
    if (cluster) (cluster as { skipTLSVerify: boolean }).skipTLSVerify = true;
  }
  return kc;
}

/** The source's cluster_url, cluster_ca and client certificate or token. */
function sourceKubeConfig(auth: DirectAuth): KubeConfig {
  const kc = new KubeConfig();
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
type KubeconfigCluster = NonNullable<ReturnType<KubeConfig['getCurrentCluster']>>;

/** A copy of `kc` with its own clusters and users, the contexts and current context kept. */
function copyWith(kc: KubeConfig, parts: { clusters?: KubeconfigCluster[]; users?: KubeconfigUser[] }): KubeConfig {
  const next = new KubeConfig();
  next.loadFromOptions({
    clusters: parts.clusters ?? kc.clusters,
    users: parts.users ?? kc.users,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
  });
  return next;
}

export interface ExecCredentialOptions {
  /** The environment the plugin starts from. */
  pluginEnv: Record<string, string>;
  /** The plugin's bound: the request timeout. */
  timeoutMs: number;
  /** Redacts the plugin's token from every later line. */
  addSecret?: (value: string) => void;
}

/**
 * The KubeConfig with an exec plugin's credential in place of the `exec` stanza: the plugin runs once per script,
 * bounded by the request timeout (the library's own runner has no bound).
 */
export async function withExecCredential(kc: KubeConfig, options: ExecCredentialOptions): Promise<KubeConfig> {
  const user = kc.getCurrentUser() as (KubeconfigUser & { exec?: ExecConfig | null }) | null;
  if (!user?.exec) return kc;
  const cluster = kc.getCurrentCluster();
  const credential = await runExecPlugin(user.exec, {
    user: user.name,
    baseEnv: options.pluginEnv,
    timeoutMs: options.timeoutMs,
    addSecret: options.addSecret,
    cluster: cluster ? execClusterInfo(cluster) : undefined,
  });
  const replaced = userWith(user, credential);
  return copyWith(kc, { users: kc.users.map((u) => (u.name === user.name ? replaced : u)) });
}

/** What the plugin learns of the cluster (provideClusterInfo), in the kubeconfig's own field names. */
function execClusterInfo(cluster: KubeconfigCluster): ExecClusterInfo {
  return {
    server: cluster.server,
    ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}),
    ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
    ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
    ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
  };
}

/** The user with the plugin's token or client certificate and no `exec` stanza left. */
function userWith(user: KubeconfigUser, credential: ExecResult): KubeconfigUser {
  return {
    ...user,
    exec: null,
    ...(credential.token ? { token: credential.token } : {}),
    ...(credential.clientCertificateData && credential.clientKeyData
      ? { certData: b64(credential.clientCertificateData), keyData: b64(credential.clientKeyData) }
      : {}),
  };
}

/**
 * As kubectl (Go's SOCKS5 dialer) does: a `socks5://` proxy-url hands the proxy the API server's host name to resolve.
 * The client library's SOCKS agent would resolve it here first (its `socks5h://` does not), which fails where only the
 * proxy's side knows the name.
 */
export function proxyResolvesNames(kc: KubeConfig): KubeConfig {
  const current = kc.getCurrentCluster();
  const proxyUrl = current?.proxyUrl;
  if (!current || !proxyUrl || !/^socks5:\/\//i.test(proxyUrl)) return kc;
  const clusters = kc.clusters.map((c) =>
    c.name === current.name ? { ...c, proxyUrl: proxyUrl.replace(/^socks5:/i, 'socks5h:') } : c,
  );
  return copyWith(kc, { clusters });
}

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
  inCluster?: InClusterEnv,
): CredentialOrigin {
  if (auth.kind === 'direct') return { kind: 'source', credential: auth.token ? 'token' : 'client certificate' };
  if (auth.kind === 'in-cluster')
    return { kind: 'service-account', tokenFile: serviceAccountTokenFile(inCluster ?? {}) };
  const user = configured.getCurrentUser();
  const sent = userCredential(used.getCurrentUser());
  if (user?.exec) {
    const command = String((user.exec as ExecConfig).command);
    return { kind: 'exec', command, user: user.name, credential: sent === 'token' ? 'token' : 'client certificate' };
  }
  return { kind: 'kubeconfig', user: user?.name ?? '', credential: sent };
}
