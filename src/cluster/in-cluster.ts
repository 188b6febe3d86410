// `source.in_cluster: true`: the ServiceAccount the kubelet mounts into the Pod (token, CA) and the API server from
// KUBERNETES_SERVICE_HOST/PORT, as client-go's rest.InClusterConfig reads them. Read on every run: a projected token
// is rotated by the kubelet while the Pod lives. The mount's `namespace` file is not used: source.namespace keeps its
// own default (the schema fills it in before we could tell it was not given).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BadRequestError } from '../errors.js';

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

function readMounted(root: string, name: string): string {
  const file = join(root, name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new BadRequestError(
      `source.in_cluster: cannot read the ServiceAccount's ${name} at ${file} (${code}): is the ServiceAccount token mounted into the worker's Pod (automountServiceAccountToken)?`,
    );
  }
  if (text.trim() === '')
    throw new BadRequestError(`source.in_cluster: the ServiceAccount's ${name} at ${file} is empty`);
  return text.trim();
}

export function readInCluster(env: InClusterEnv): InClusterCredentials {
  const host = env.serviceHost?.trim();
  const port = env.servicePort?.trim();
  if (!host || !port) {
    const missing = [!host && 'KUBERNETES_SERVICE_HOST', !port && 'KUBERNETES_SERVICE_PORT']
      .filter(Boolean)
      .join(' and ');
    throw new BadRequestError(
      `source.in_cluster: ${missing} not set: this does not run in a Kubernetes Pod (give cluster_url and credentials instead)`,
    );
  }
  if (!/^\d+$/.test(port)) throw new BadRequestError(`source.in_cluster: KUBERNETES_SERVICE_PORT is not a port number`);
  const root = env.mountRoot ?? serviceAccountMount;
  const token = readMounted(root, 'token');
  const caPem = readMounted(root, 'ca.crt') + '\n';
  // An IPv6 address needs brackets in a URL.
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { server, token, caPem };
}
