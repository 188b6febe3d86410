// `source.in_cluster: true`: the ServiceAccount the kubelet mounts into the Pod (token, CA, namespace) and the API
// server from KUBERNETES_SERVICE_HOST/PORT, as client-go's rest.InClusterConfig reads them. Read on every run: a
// projected token is rotated by the kubelet while the Pod lives. The mount's `namespace` (the Pod's own) is where
// releases go when the request names none, as kubectl in a Pod does.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { BadRequestError } from '../errors.js';
import { checkNamespaceName } from '../request/namespace.js';

export const serviceAccountMount = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What the environment says about the Pod we run in; protocol/ reads it. */
export interface InClusterEnv {
  serviceHost?: string;
  servicePort?: string;
  /** Tests only (KDR_TEST_SERVICEACCOUNT_ROOT): where the mount is, instead of the standard path. */
  mountRoot?: string;
}

export interface InClusterCredentials {
  server: string;
  token: string;
  caPem: string;
}

/** The most a mounted file may hold: a token, a CA bundle and a namespace name are far smaller. */
const mountedFileBytes: Record<string, number> = { token: 64 * 1024, 'ca.crt': 1024 * 1024, namespace: 256 };

/**
 * A file of the mount, trimmed: at most its bound, opened without blocking (a FIFO would wait for a writer) and
 * checked to be a regular file on the open descriptor.
 */
function readMounted(root: string, name: 'token' | 'ca.crt' | 'namespace'): string {
  const file = join(root, name);
  const limit = mountedFileBytes[name]!;
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    if (!fstatSync(fd).isFile())
      throw new BadRequestError(`source.in_cluster: the ServiceAccount's ${name} at ${file} is not a file`);
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n)
      n = readSync(fd, buffer, length, buffer.length - length, length);
    if (length > limit)
      throw new BadRequestError(
        `source.in_cluster: the ServiceAccount's ${name} at ${file} is larger than ${limit} bytes`,
      );
    text = buffer.subarray(0, length).toString('utf8');
  } catch (error) {
    if (error instanceof BadRequestError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    const hint =
      name === 'namespace'
        ? "name the target in source.namespace, or mount the ServiceAccount into the worker's Pod"
        : "is the ServiceAccount token mounted into the worker's Pod (automountServiceAccountToken)?";
    throw new BadRequestError(
      `source.in_cluster: cannot read the ServiceAccount's ${name} at ${file} (${code}): ${hint}`,
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (text.trim() === '')
    throw new BadRequestError(`source.in_cluster: the ServiceAccount's ${name} at ${file} is empty`);
  return text.trim();
}

/** The API server's URL from the Pod's environment; outside a Pod, exit 2 saying so. */
function serverOf(env: InClusterEnv): string {
  const host = env.serviceHost?.trim();
  const port = env.servicePort?.trim();
  if (!host || !port) {
    const missing = [!host && 'KUBERNETES_SERVICE_HOST', !port && 'KUBERNETES_SERVICE_PORT']
      .filter(Boolean)
      .join(' and ');
    throw new BadRequestError(
      `source.in_cluster: ${missing} not set: ` +
        'this does not run in a Kubernetes Pod (give cluster_url and credentials instead)',
    );
  }
  if (!/^\d+$/.test(port)) throw new BadRequestError(`source.in_cluster: KUBERNETES_SERVICE_PORT is not a port number`);
  // An IPv6 address needs brackets in a URL.
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function readInCluster(env: InClusterEnv): InClusterCredentials {
  const server = serverOf(env);
  const root = env.mountRoot ?? serviceAccountMount;
  const token = readMounted(root, 'token');
  const caPem = readMounted(root, 'ca.crt') + '\n';
  return { server, token, caPem };
}

/** Where the token is read from (a refused token's message names it). */
export function serviceAccountTokenFile(env: InClusterEnv): string {
  return join(env.mountRoot ?? serviceAccountMount, 'token');
}

/** The Pod's own namespace, from the mount (the default namespace of an in_cluster source). */
export function readPodNamespace(env: InClusterEnv): string {
  // Outside a Pod that is the first thing to say, whichever file is read first.
  serverOf(env);
  const root = env.mountRoot ?? serviceAccountMount;
  const how = ` (the ServiceAccount's namespace at ${join(root, 'namespace')})`;
  return checkNamespaceName(readMounted(root, 'namespace'), 'source.in_cluster', how);
}
