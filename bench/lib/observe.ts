// The bench's own view of a release rolling out: a watch (admin identity, from the bench process) of a namespace's
// Deployments, and optionally its Pods, noting when each event was seen (performance.now()).
import type { Api, KubeObject } from './cluster.js';

/** When the bench's watch saw a Deployment created, Available with all replicas, and complete (performance.now()). */
export interface DeploymentTimes {
  createdAt?: number;
  availableAt?: number;
  completeAt?: number;
}

export interface Observation {
  deployments: Map<string, DeploymentTimes>;
  podFailure?: number;
  podBackOff?: number;
  podFailureReason?: string;
  stop(): void;
}

/** Watches Deployments (and optionally Pods) of a namespace from the bench process (admin identity). */
export async function observe(api: Api, namespace: string, { pods = false } = {}): Promise<Observation> {
  const deployments = new Map<string, DeploymentTimes>();
  const seen: Omit<Observation, 'stop'> = { deployments };
  const deployment = (name: string) => {
    const known = deployments.get(name);
    if (known) return known;
    const times: DeploymentTimes = {};
    deployments.set(name, times);
    return times;
  };
  const watches = [
    api.watch(`/apis/apps/v1/namespaces/${namespace}/deployments`, (type, obj, at) => {
      if (!obj?.metadata?.name) return;
      const d = deployment(obj.metadata.name);
      if (type === 'ADDED' && d.createdAt === undefined) d.createdAt = at;
      const available = obj.status?.conditions?.find((c: KubeObject) => c.type === 'Available')?.status === 'True';
      const replicas = obj.spec?.replicas ?? 1;
      if (available && (obj.status?.availableReplicas ?? 0) >= replicas && d.availableAt === undefined)
        d.availableAt = at;
      // kubectl's rollout-complete condition, for reference
      const s = obj.status ?? {};
      if (
        d.completeAt === undefined &&
        (s.observedGeneration ?? 0) >= obj.metadata.generation &&
        (s.updatedReplicas ?? 0) === replicas &&
        (s.availableReplicas ?? 0) === replicas &&
        (s.replicas ?? 0) === replicas
      )
        d.completeAt = at;
    }),
  ];
  if (pods) {
    watches.push(
      api.watch(`/api/v1/namespaces/${namespace}/pods`, (_type, obj, at) => {
        for (const cs of obj?.status?.containerStatuses ?? []) {
          const reason = cs.state?.waiting?.reason;
          if ((reason === 'ErrImagePull' || reason === 'ImagePullBackOff') && seen.podFailure === undefined) {
            seen.podFailure = at;
            seen.podFailureReason = reason;
          }
          if (reason === 'ImagePullBackOff' && seen.podBackOff === undefined) seen.podBackOff = at;
        }
      }),
    );
  }
  await Promise.all(watches.map((w) => w.ready));
  return Object.assign(seen, { stop: () => watches.forEach((w) => w.stop()) });
}
