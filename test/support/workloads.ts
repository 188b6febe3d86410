// Extra-manifest workloads for the wait tests, as a user writes them (the resource adds its labels).
import { dump } from 'js-yaml';

const podSpec = (name: string, image: string, extra: Record<string, unknown> = {}) => ({
  containers: [{ name, image, ports: [{ containerPort: 8080 }] }],
  ...extra,
});
const selectorFor = (name: string) => ({ matchLabels: { 'app.kubernetes.io/name': name } });
const templateFor = (name: string, image: string, extra: Record<string, unknown> = {}) => ({
  metadata: { labels: { 'app.kubernetes.io/name': name } },
  spec: podSpec(name, image, extra),
});

export function deploymentYaml(name: string, image: string, podExtra: Record<string, unknown> = {}): string {
  return dump({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas: 1, selector: selectorFor(name), template: templateFor(name, image, podExtra) } });
}

export function statefulSetYaml(name: string, image: string, options: { replicas?: number; strategy?: string; podExtra?: Record<string, unknown> } = {}): string {
  return dump({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: options.replicas ?? 2,
      selector: selectorFor(name),
      updateStrategy: { type: options.strategy ?? 'RollingUpdate' },
      template: templateFor(name, image, options.podExtra),
    },
  });
}

export function daemonSetYaml(name: string, image: string, podExtra: Record<string, unknown> = {}): string {
  return dump({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name }, spec: { selector: selectorFor(name), template: templateFor(name, image, podExtra) } });
}

export function jobYaml(name: string, image: string, options: { before?: boolean; backoffLimit?: number; podExtra?: Record<string, unknown> } = {}): string {
  return dump({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, ...(options.before ? { annotations: { 'kubernetes-deploy-resource.io/phase': 'before' } } : {}) },
    spec: {
      backoffLimit: options.backoffLimit ?? 1,
      template: { metadata: { labels: { 'app.kubernetes.io/name': name } }, spec: { restartPolicy: 'Never', containers: [{ name, image }], ...options.podExtra } },
    },
  });
}

export function cronJobYaml(name: string, image: string): string {
  return dump({
    apiVersion: 'batch/v1beta1',
    kind: 'CronJob',
    metadata: { name },
    spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name, image }] } } } } },
  });
}
