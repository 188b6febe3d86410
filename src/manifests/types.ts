/** A Kubernetes object as we render, apply and record it: plain JSON, no client types. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export const managedBy = 'kubernetes-deploy-resource';
export const labelKeys = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  version: 'app.kubernetes.io/version',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** `deployment/web`, the way kubectl names objects in its output. */
export function objectRef(object: Pick<KubeObject, 'kind' | 'metadata'>): string {
  return `${object.kind.toLowerCase()}/${object.metadata.name}`;
}
