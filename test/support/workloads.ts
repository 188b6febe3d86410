// Extra-manifest workloads for the wait tests, as a user writes them (the resource adds its labels). Each takes its
// image from the caller (test/support/images.ts), so the same manifest runs on the stand-in and on a real kubelet.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
  return dump({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas: 1, selector: selectorFor(name), template: templateFor(name, image, podExtra) },
  });
}

export function statefulSetYaml(
  name: string,
  image: string,
  options: { replicas?: number; strategy?: string; podExtra?: Record<string, unknown> } = {},
): string {
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
  return dump({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name },
    spec: { selector: selectorFor(name), template: templateFor(name, image, podExtra) },
  });
}

export function jobYaml(
  name: string,
  image: string,
  options: { before?: boolean; backoffLimit?: number; podExtra?: Record<string, unknown> } = {},
): string {
  return dump({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, ...(options.before ? { annotations: { 'kubernetes-deploy-resource.io/phase': 'before' } } : {}) },
    spec: {
      backoffLimit: options.backoffLimit ?? 1,
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': name } },
        spec: { restartPolicy: 'Never', containers: [{ name, image }], ...options.podExtra },
      },
    },
  });
}

export function cronJobYaml(name: string, image: string): string {
  return dump({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule: '0 3 * * *',
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name, image }] } } } },
    },
  });
}

const fixturesDir = join(import.meta.dirname, '..', 'fixtures');
const placeholder = /\$\{([A-Z][A-Z0-9_]*)\}/g;

/**
 * A YAML fixture under test/fixtures with its `${NAME}` placeholders replaced. Every placeholder must be given and
 * every value used, so a fixture never reaches the cluster with a name made up in it, nor a test with a value it
 * ignores.
 */
export function fixtureWithImages(name: string, images: Record<string, string>): string {
  const text = readFileSync(join(fixturesDir, name), 'utf8');
  const used = new Set<string>();
  const replaced = text.replace(placeholder, (_match, key: string) => {
    const value = images[key];
    if (value === undefined) throw new Error(`test/fixtures/${name}: no value for \${${key}}`);
    used.add(key);
    return value;
  });
  const unused = Object.keys(images).filter((key) => !used.has(key));
  if (unused.length > 0) throw new Error(`test/fixtures/${name}: no placeholder for ${unused.join(', ')}`);
  return replaced;
}

/** test/fixtures/postgres-statefulset.yml (Secret, headless Service, StatefulSet with a claim) running `image`. */
export const postgresStatefulSetYaml = (image: string): string =>
  fixtureWithImages('postgres-statefulset.yml', { POSTGRES_IMAGE: image });

/** test/fixtures/migrate-job.yml (a phase-before Job, backoffLimit 0) running `image`. */
export const migrateJobYaml = (image: string): string => fixtureWithImages('migrate-job.yml', { MIGRATE_IMAGE: image });
