import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { describe, expect, test } from 'vitest';
import { parseExtraManifests } from '../../src/manifests/extra.js';
import { renderManifests } from '../../src/manifests/render.js';
import { toYaml } from '../../src/manifests/yaml.js';
import { redactSecrets } from '../../src/output/files.js';
import { expectGolden, releaseSpec } from '../support/golden.js';

const digest = 'sha256:' + 'ab12'.repeat(16);
const base = releaseSpec({ image: { repository: 'registry.local/team/web', tag: '1.4.2', digest } });

describe('renderManifests golden YAML', () => {
  test('minimal: Deployment and Service, digest-pinned, no Ingress without host', () => {
    const objects = renderManifests(base);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Deployment/web', 'Service/web']);
    expectGolden('minimal.yml', toYaml(objects));
  });

  test('full: ingress with class and TLS, env, args, probes, resources, labels, build annotations', () => {
    const objects = renderManifests({
      ...base,
      replicas: 3,
      env: { ZED: 'last', DATABASE_URL: 'postgres://db:5432/app', FEATURE: 'yes' },
      args: ['--listen', ':8080'],
      labels: { team: 'payments' },
      annotations: { 'example.com/owner': 'payments' },
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      readinessPath: '/healthz',
      host: 'web-42.staging.example.com',
      path: '/app',
      ingressClass: 'traefik',
      tlsSecret: 'staging-tls',
      ingressAnnotations: { 'traefik.ingress.kubernetes.io/router.entrypoints': 'websecure' },
      buildAnnotations: {
        'kubernetes-deploy-resource.io/pipeline': 'web',
        'kubernetes-deploy-resource.io/build': '42',
      },
    });
    expect(objects.map((o) => o.kind)).toEqual(['Deployment', 'Service', 'Ingress']);
    expectGolden('full.yml', toYaml(objects));
  });

  test('extra manifests go first, ordered by kind, labelled and namespaced; tag-only image', () => {
    const docs = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'postgres.yml'), 'utf8');
    const extraObjects = parseExtraManifests([{ path: 'postgres.yml', content: docs }], 'staging');
    const objects = renderManifests({
      ...base,
      image: { repository: 'registry.local/team/web', tag: 'main' },
      extraObjects,
    });
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Secret/db-credentials',
      'Service/db',
      'Deployment/db',
      'Deployment/web',
      'Service/web',
    ]);
    expectGolden('with-database.yml', toYaml(objects));
  });
});

describe('YAML output', () => {
  test('is byte-identical across runs and round-trips to the same objects', () => {
    const objects = renderManifests({ ...base, host: 'a.example.com' });
    expect(toYaml(objects)).toBe(toYaml(structuredClone(objects)));
    expect(loadAll(toYaml(objects))).toEqual(objects);
  });

  test('drops status and server-set metadata', () => {
    const object = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      status: { x: 1 },
      metadata: {
        name: 'c',
        uid: 'u',
        resourceVersion: '1',
        creationTimestamp: 'now',
        generation: 2,
        managedFields: [],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
      data: { a: 'b' },
    };
    expect(load(toYaml([object]).replace(/^---\n/, ''))).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { a: 'b' },
    });
  });

  test('quotes strings YAML 1.1 readers (kubectl) would take for booleans or numbers', () => {
    const yaml = toYaml([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c' },
        data: { a: 'yes', b: 'on', c: '0777', d: '8080' },
      },
    ]);
    expect(yaml).toContain('a: "yes"');
    expect(yaml).toContain('b: "on"');
    expect(yaml).toContain('c: "0777"');
    expect(yaml).toContain('d: "8080"');
  });

  test('Secret values are redacted, keys kept', () => {
    const [secret] = redactSecrets([
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's' },
        data: { password: 'c2VjcmV0' },
        stringData: { user: 'app' },
      },
    ]);
    expect(secret).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      stringData: { password: '<redacted>', user: '<redacted>' },
    });
  });
});

describe('ownership labels', () => {
  test('user labels cannot replace ours; the selector never changes between versions', () => {
    const objects = renderManifests({
      ...base,
      labels: { 'app.kubernetes.io/managed-by': 'me', 'app.kubernetes.io/instance': 'other' },
    });
    for (const o of objects) {
      expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('kubernetes-deploy-resource');
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('web');
    }
    const v1 = renderManifests(base)[0]!.spec as { selector: unknown };
    const v2 = renderManifests({ ...base, image: { repository: 'x', tag: '2' } })[0]!.spec as { selector: unknown };
    expect(v1.selector).toEqual(v2.selector);
  });
});
