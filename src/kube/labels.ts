// The product's names on the cluster: who manages an object, which release it belongs to, our own label keys.
import type { KubeObject } from './object.js';

/** The product: app.kubernetes.io/managed-by value, server-side apply field manager, User-Agent. */
export const product = 'kubernetes-deploy-resource';
/** Prefix of our own label and annotation keys. */
const domain = 'kubernetes-deploy-resource.io';
export const ourKey = (name: string) => `${domain}/${name}`;

export const managedBy = product;
export const labelKeys = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  version: 'app.kubernetes.io/version',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Labels the Deployment selects its Pods by: never include anything that changes between releases. */
export function selectorLabels(app: string): Record<string, string> {
  return { [labelKeys.name]: app, [labelKeys.instance]: app };
}

/** The label selector that finds every object of a release, extra manifests included. */
export function releaseSelector(app: string): string {
  return `${labelKeys.instance}=${app},${labelKeys.managedBy}=${managedBy}`;
}

/** Carries the release's ownership labels: only such objects are ever changed or deleted. */
export function isOurs(object: KubeObject, app: string): boolean {
  const labels = object.metadata.labels ?? {};
  return labels[labelKeys.managedBy] === managedBy && labels[labelKeys.instance] === app;
}
