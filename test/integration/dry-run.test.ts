// Every object we generate is accepted by the real API server (server-side dry run), the Ingress as
// networking.k8s.io/v1 with ingressClassName.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { resolveClusterAuth } from '../../src/cluster/auth.js';
import { connectCluster } from '../../src/cluster/client.js';
import { memoryLogger } from '../../src/log.js';
import { parseExtraManifests } from '../../src/manifests/extra.js';
import { renderManifests, type ReleaseSpec } from '../../src/manifests/render.js';
import { parseCheckRequest } from '../../src/request/parse.js';
import { useNamespace } from '../support/cluster.js';
import { releaseSpec } from '../support/golden.js';
import { clusterSource } from '../support/release.js';

describe('server-side dry run of generated objects', () => {
  const ns = useNamespace('kdr-dryrun');

  test('minimal, full and with-database releases are all accepted', async () => {
    const { source } = parseCheckRequest({ source: clusterSource({ namespace: ns.name }) });
    const cluster = connectCluster(resolveClusterAuth(source), { log: memoryLogger() });
    const base = releaseSpec({
      namespace: ns.name,
      image: { repository: 'registry.local/team/web', tag: '1', digest: 'sha256:' + 'a'.repeat(64) },
    });
    const full: ReleaseSpec = {
      ...base,
      replicas: 3,
      env: { A: 'yes' },
      args: ['--x'],
      labels: { team: 'a' },
      resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      readinessPath: '/healthz',
      host: 'web.example.test',
      path: '/app',
      ingressClass: 'traefik',
      tlsSecret: 'tls',
      ingressAnnotations: { a: 'b' },
      buildAnnotations: { 'kubernetes-deploy-resource.io/build': '1' },
    };
    const postgres = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'postgres.yml'), 'utf8');
    const withDb: ReleaseSpec = {
      ...base,
      extraObjects: parseExtraManifests([{ path: 'postgres.yml', content: postgres }], ns.name),
    };
    const accepted: string[] = [];
    for (const spec of [base, full, withDb]) {
      for (const object of renderManifests(spec)) {
        const result = await cluster.apply(object, { dryRun: true });
        expect(result.metadata.name).toBe(object.metadata.name);
        accepted.push(`${object.apiVersion}/${object.kind}`);
      }
    }
    expect(new Set(accepted)).toEqual(
      new Set(['apps/v1/Deployment', 'v1/Service', 'networking.k8s.io/v1/Ingress', 'v1/Secret']),
    );
    // A dry run creates nothing.
    expect((await cluster.list('apps/v1', 'Deployment', ns.name)).items).toEqual([]);
  });

  test('an invalid object is refused with 422 and the API server says why', async () => {
    const { source } = parseCheckRequest({ source: clusterSource({ namespace: ns.name }) });
    const cluster = connectCluster(resolveClusterAuth(source), { log: memoryLogger() });
    const bad = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'bad', namespace: ns.name },
      spec: { ports: [{ port: 70000, protocol: 'TCP' }] },
    };
    await expect(cluster.apply(bad, { dryRun: true })).rejects.toMatchObject({
      exitCode: 4,
      status: 422,
      message: expect.stringMatching(/refused to apply service\/bad in namespace .* \(Invalid, 422\): .*70000/),
    });
  });
});
