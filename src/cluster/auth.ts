// Decodes and checks the source's credentials before any network call, and says which field is wrong.
// Pure apart from node:crypto; the Kubernetes client sees only the result (see client.ts).
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { load } from 'js-yaml';
import { BadRequestError, ClusterConnectionError } from '../errors.js';
import { parseDuration } from '../time.js';
import type { Source } from '../request/schemas.js';
import { execApiVersions } from './exec-credential.js';

/** The bound of each network step when source.request_timeout is not given (README, "Source Configuration"). */
export const defaultRequestTimeout = '30s';

export interface DirectAuth {
  kind: 'direct';
  server: string;
  caPem?: string;
  certPem?: string;
  keyPem?: string;
  token?: string;
  skipTlsVerify: boolean;
  requestTimeoutMs: number;
}
export interface KubeconfigAuth {
  kind: 'kubeconfig';
  kubeconfig: string;
  context?: string;
  server: string;
  skipTlsVerify: boolean;
  requestTimeoutMs: number;
}
/** The Pod's ServiceAccount: read from its mount when connecting (see in-cluster.ts). */
export interface InClusterAuth {
  kind: 'in-cluster';
  skipTlsVerify: boolean;
  requestTimeoutMs: number;
}
export type ClusterAuth = DirectAuth | KubeconfigAuth | InClusterAuth;

const base64Text = /^[A-Za-z0-9+/=\s]+$/;
const pemBlock = (label: string) => new RegExp(`-----BEGIN ${label}-----[\\s\\S]+?-----END ${label}-----`, 'g');

/** PEM text as given, or decoded from base64 (the community resource's format). Undefined when it is neither. */
export function decodePem(value: string): string | undefined {
  const text = value.trim();
  if (text.startsWith('-----BEGIN ')) return text + '\n';
  if (!base64Text.test(text)) return undefined;
  const decoded = Buffer.from(text, 'base64').toString('utf8').trim();
  return decoded.startsWith('-----BEGIN ') ? decoded + '\n' : undefined;
}

export function certificates(field: string, value: string): { pem: string; certs: X509Certificate[] } {
  const pem = decodePem(value);
  const blocks = pem?.match(pemBlock('CERTIFICATE')) ?? [];
  const certs: X509Certificate[] = [];
  for (const block of blocks) {
    try {
      certs.push(new X509Certificate(block));
    } catch {
      throw new BadRequestError(`source.${field}: holds a PEM block that is not a valid X.509 certificate`);
    }
  }
  if (!pem || certs.length === 0) throw new BadRequestError(`source.${field}: not a base64-encoded PEM certificate`);
  return { pem, certs };
}

function privateKey(field: string, value: string): { pem: string; key: KeyObject } {
  const pem = decodePem(value);
  if (!pem || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new BadRequestError(`source.${field}: not a base64-encoded PEM private key`);
  }
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch {
    throw new BadRequestError(`source.${field}: not a valid PEM private key (or it is encrypted)`);
  }
}

function checkValidity(field: string, cert: X509Certificate, now: Date): void {
  // An expired client certificate is an authentication failure, reported before the TLS handshake hides why.
  if (cert.validToDate.getTime() < now.getTime()) {
    throw new ClusterConnectionError(
      `source.${field}: the client certificate expired on ${cert.validToDate.toISOString()}`,
    );
  }
  if (cert.validFromDate.getTime() > now.getTime()) {
    throw new ClusterConnectionError(
      `source.${field}: the client certificate is not valid before ${cert.validFromDate.toISOString()}`,
    );
  }
}

interface KubeconfigShape {
  'current-context'?: string;
  contexts?: { name?: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name?: string; cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
  users?: {
    name?: string;
    user?: { 'client-certificate-data'?: string; 'client-key-data'?: string; exec?: unknown };
  }[];
}

/** An exec credential plugin stanza we can run without a terminal (see exec-credential.ts). */
function checkExec(where: string, exec: unknown): void {
  const field = `source.${where} exec`;
  if (typeof exec !== 'object' || exec === null || Array.isArray(exec))
    throw new BadRequestError(`${field}: must be a mapping`);
  const e = exec as Record<string, unknown>;
  if (!execApiVersions.includes(e.apiVersion as (typeof execApiVersions)[number])) {
    throw new BadRequestError(`${field}.apiVersion: must be one of ${execApiVersions.join(', ')}`);
  }
  if (typeof e.command !== 'string' || e.command.trim() === '')
    throw new BadRequestError(`${field}.command: is required`);
  if (
    e.args !== undefined &&
    e.args !== null &&
    (!Array.isArray(e.args) || !e.args.every((a) => typeof a === 'string'))
  ) {
    throw new BadRequestError(`${field}.args: must be a list of strings`);
  }
  if (e.env !== undefined && e.env !== null) {
    const ok =
      Array.isArray(e.env) &&
      e.env.every(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof v.name === 'string' &&
          v.name !== '' &&
          typeof v.value === 'string',
      );
    if (!ok) throw new BadRequestError(`${field}.env: must be a list of {name, value} strings`);
  }
  const mode = e.interactiveMode;
  // As kubectl: v1 must say; v1beta1 defaults to IfAvailable. No terminal here: Always cannot work.
  if (mode === undefined && e.apiVersion === 'client.authentication.k8s.io/v1')
    throw new BadRequestError(`${field}.interactiveMode: is required for ${e.apiVersion} (use Never)`);
  if (mode !== undefined && mode !== 'Never' && mode !== 'IfAvailable' && mode !== 'Always')
    throw new BadRequestError(`${field}.interactiveMode: must be Never, IfAvailable or Always`);
  if (mode === 'Always')
    throw new BadRequestError(
      `${field}.interactiveMode: Always needs a terminal, which a Concourse resource does not have (use Never)`,
    );
}

/** The embedded credentials of the chosen context get the same checks as admin_cert/admin_key/cluster_ca. */
function checkKubeconfigCredentials(
  config: KubeconfigShape,
  clusterName: string | undefined,
  userName: string | undefined,
  now: Date,
): void {
  const cluster = config.clusters?.find((c) => c.name === clusterName)?.cluster;
  const caData = cluster?.['certificate-authority-data'];
  if (typeof caData === 'string')
    certificates(`kubeconfig: cluster ${JSON.stringify(clusterName)} certificate-authority-data`, caData);
  const user = config.users?.find((u) => u.name === userName)?.user;
  if (user?.exec !== undefined && user.exec !== null)
    checkExec(`kubeconfig: user ${JSON.stringify(userName)}`, user.exec);
  const certData = user?.['client-certificate-data'];
  const keyData = user?.['client-key-data'];
  if (typeof certData !== 'string' && typeof keyData !== 'string') return;
  const where = `kubeconfig: user ${JSON.stringify(userName)}`;
  if (typeof certData !== 'string' || typeof keyData !== 'string')
    throw new BadRequestError(`source.${where}: client-certificate-data and client-key-data go together`);
  const { certs } = certificates(`${where} client-certificate-data`, certData);
  const { key } = privateKey(`${where} client-key-data`, keyData);
  if (!certs[0]!.checkPrivateKey(key))
    throw new BadRequestError(`source.${where}: client-key-data does not match client-certificate-data`);
  checkValidity(`${where} client-certificate-data`, certs[0]!, now);
}

function checkKubeconfig(text: string, context: string | undefined, now: Date): string {
  let doc: unknown;
  try {
    doc = load(text);
  } catch (error) {
    // In check's bundle js-yaml is a side module (scripts/build.mjs): one that cannot be loaded is not the user's YAML.
    if ((error as { code?: unknown }).code === 'MODULE_NOT_FOUND') throw error;
    throw new BadRequestError('source.kubeconfig: not valid YAML');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new BadRequestError(
      'source.kubeconfig: not a kubeconfig (expected a YAML mapping with clusters, users and contexts)',
    );
  }
  const config = doc as KubeconfigShape;
  const wanted = context ?? config['current-context'];
  if (!wanted) throw new BadRequestError('source.context: is required (source.kubeconfig has no current-context)');
  const ctx = config.contexts?.find((c) => c.name === wanted);
  if (!ctx) {
    const field = context ? 'source.context' : 'source.kubeconfig';
    throw new BadRequestError(`${field}: no context named ${JSON.stringify(wanted)} in source.kubeconfig`);
  }
  const cluster = config.clusters?.find((c) => c.name === ctx.context?.cluster);
  const server = cluster?.cluster?.server;
  if (!server)
    throw new BadRequestError(`source.kubeconfig: context ${JSON.stringify(wanted)} names no cluster with a server`);
  checkKubeconfigCredentials(config, ctx.context?.cluster, ctx.context?.user, now);
  return server;
}

/** Validates the credentials in `source` and returns what the cluster client needs, all in memory. */
export function resolveClusterAuth(source: Source, now: Date = new Date()): ClusterAuth {
  const skipTlsVerify = source.insecure_skip_tls_verify;
  const requestTimeoutMs = parseDuration(source.request_timeout ?? defaultRequestTimeout)!;
  if (source.in_cluster) return { kind: 'in-cluster', skipTlsVerify, requestTimeoutMs };
  if (source.kubeconfig !== undefined) {
    const server = checkKubeconfig(source.kubeconfig, source.context, now);
    return {
      kind: 'kubeconfig',
      kubeconfig: source.kubeconfig,
      context: source.context,
      server,
      skipTlsVerify,
      requestTimeoutMs,
    };
  }
  const auth: DirectAuth = { kind: 'direct', server: source.cluster_url!, skipTlsVerify, requestTimeoutMs };
  if (source.cluster_ca !== undefined) auth.caPem = certificates('cluster_ca', source.cluster_ca).pem;
  if (source.admin_cert !== undefined && source.admin_key !== undefined) {
    const { pem: certPem, certs } = certificates('admin_cert', source.admin_cert);
    const { pem: keyPem, key } = privateKey('admin_key', source.admin_key);
    const leaf = certs[0]!;
    if (!leaf.checkPrivateKey(key)) throw new BadRequestError('source.admin_key: does not match source.admin_cert');
    checkValidity('admin_cert', leaf, now);
    auth.certPem = certPem;
    auth.keyPem = keyPem;
  }
  if (source.token !== undefined) {
    if (/\s/.test(source.token.trim()) || source.token.trim() === '') {
      throw new BadRequestError('source.token: must be a single bearer token without white space');
    }
    auth.token = source.token.trim();
  }
  return auth;
}

/** Every form in which a credential of `source` could show up in text: as given, trimmed, decoded, and line by line. */
export function secretFragments(source: Partial<Record<string, unknown>>): string[] {
  const fragments = new Set<string>();
  for (const key of ['admin_key', 'admin_cert', 'token', 'kubeconfig']) {
    const value = source[key];
    if (typeof value !== 'string' || value.trim() === '') continue;
    fragments.add(value);
    fragments.add(value.trim());
    const decoded = decodePem(value);
    const forms = decoded ? [value, decoded] : [value];
    for (const form of forms) {
      // PEM bodies and kubeconfig lines: any long enough line alone is a leak.
      for (const line of form.split(/\r?\n/)) {
        const trimmed = line.trim();
        if (trimmed.length >= 16 && !trimmed.startsWith('-----')) fragments.add(trimmed);
      }
      // A proxy-url's user:password (a socks5:// or http:// proxy of a kubeconfig cluster), as given and decoded.
      for (const m of form.matchAll(/proxy-url["']?:\s*["']?[a-z][a-z0-9+.-]*:\/\/([^@\s"'/]+)@/gi)) {
        const userinfo = m[1]!;
        fragments.add(userinfo);
        const password = userinfo.slice(userinfo.indexOf(':') + 1);
        if (userinfo.includes(':') && password.length >= 4) {
          fragments.add(password);
          try {
            fragments.add(decodeURIComponent(password));
          } catch {
            /* not percent-encoded: as given */
          }
        }
      }
      // Embedded credentials of a kubeconfig: the value, and the PEM lines it decodes to.
      for (const m of form.matchAll(/(?:-data|token|password):\s*["']?([^\s"']+)/g)) {
        fragments.add(m[1]!);
        for (const line of (decodePem(m[1]!) ?? '').split('\n')) {
          if (line.trim().length >= 16 && !line.startsWith('-----')) fragments.add(line.trim());
        }
      }
    }
  }
  return [...fragments].filter((f) => f.length >= 8).sort((a, b) => b.length - a.length);
}
