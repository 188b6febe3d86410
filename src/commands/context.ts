import type { ClusterApi } from '../cluster/api.js';
import type { ClusterAuth } from '../cluster/auth.js';
import type { ConnectOptions, NetworkEnv } from '../cluster/client.js';
import { readPodNamespace } from '../cluster/in-cluster.js';
import type { Logger } from '../log.js';
import { product } from '../kube/labels.js';
import type { BuildEnv } from '../request/build-env.js';
import type { NamespaceChoice } from '../request/namespace.js';
import type { Clock } from '../time.js';

/** What a command needs from the outside world; the entrypoints wire the real ones, tests their own. */
export interface CommandDeps {
  log: Logger;
  env: BuildEnv;
  signal?: AbortSignal;
  /** The one clock: certificate expiry, deadlines and every wait read it (tests pass a fake). */
  clock?: Clock;
  /** This process, to tell concurrent puts apart in lock messages. */
  processId?: number;
  /** Proxies, the Pod's ServiceAccount and the exec plugins' environment (none: no proxy, not in a Pod). */
  network?: NetworkEnv;
  /** Redacts a secret learnt at run time (an exec plugin's token) from every later line. */
  addSecret?: (value: string) => void;
  connect: (
    auth: ClusterAuth,
    options: Pick<ConnectOptions, 'log' | 'signal' | 'userAgent' | 'network' | 'addSecret'>,
  ) => ClusterApi;
}

export const userAgent = product;

export function connectWith(deps: CommandDeps, auth: ClusterAuth): ClusterApi {
  // Connecting first: a source refused there (in_cluster outside a Pod) is one error line, without the warning.
  const cluster = deps.connect(auth, {
    log: deps.log,
    signal: deps.signal,
    userAgent,
    network: deps.network,
    addSecret: deps.addSecret,
  });
  if (auth.skipTlsVerify)
    deps.log.warn("source.insecure_skip_tls_verify is true: the API server's certificate is not verified");
  return cluster;
}

/**
 * The namespace of the release, however the request chose it (request/namespace.ts): the one resolver of check and
 * out. A name is taken as given (its parser checked it); the Pod's own namespace (in_cluster without
 * source.namespace) is read from the mount, and a file of the sources dir (params.namespace_file) by `readFile` (out
 * passes sources/read.ts's readNamespaceFile: check's bundle holds no file reader), each checked by the one rule,
 * before any cluster call: exit 2 if that fails.
 */
export async function releaseNamespace(
  choice: NamespaceChoice,
  deps: Pick<CommandDeps, 'network'>,
  readFile?: (file: string) => Promise<string>,
): Promise<string> {
  if ('name' in choice) return choice.name;
  if (!('file' in choice)) return readPodNamespace(deps.network?.inCluster ?? {});
  if (!readFile) throw new Error(`params.namespace_file ${choice.file}: no sources directory to read it from`);
  return readFile(choice.file);
}
