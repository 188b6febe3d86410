// The dry-run diff against what the real API server returns: a re-apply of the same release shows no change (the
// server's defaults, managedFields, generation and status are no noise), a new image/build/Secret value shows as
// exactly that, and no Secret value reaches a line.
import { describe, expect, test } from 'vitest';
import { resolveClusterAuth } from '../../src/cluster/auth.js';
import type { ClusterApi } from '../../src/cluster/api.js';
import { connectCluster } from '../../src/cluster/client.js';
import { memoryLogger } from '../../src/log.js';
import { parseExtraManifests } from '../../src/manifests/extra.js';
import { renderManifests, type ReleaseSpec } from '../../src/manifests/render.js';
import { objectRef, type KubeObject } from '../../src/kube/object.js';
import { diffObject, formatDiffSummary, type ObjectDiff } from '../../src/output/diff.js';
import { parseCheckRequest } from '../../src/request/parse.js';
import { useNamespace } from '../support/cluster.js';
import { clusterSource } from '../support/release.js';

const firstPassword = 'first-db-password-4c1f';
const secondPassword = 'second-db-password-9e7a';

function extras(namespace: string, password: string, withCache: boolean): KubeObject[] {
  const secret =
    `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n` + `stringData:\n  user: app\n  password: ${password}\n`;
  const cache = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cache\ndata:\n  size: "64"\n';
  const files = [{ path: 'db.yml', content: secret }, ...(withCache ? [{ path: 'cache.yml', content: cache }] : [])];
  return parseExtraManifests(files, namespace);
}

const keyOf = (o: KubeObject) => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  namespace: o.metadata.namespace,
  name: o.metadata.name,
});

/** What the put's dry run does per object: read the live object, dry-run apply, diff. */
async function dryRunDiffs(cluster: ClusterApi, objects: KubeObject[]): Promise<ObjectDiff[]> {
  const diffs: ObjectDiff[] = [];
  for (const object of objects) {
    const live = await cluster.read(keyOf(object));
    diffs.push(diffObject(live, await cluster.apply(object, { dryRun: true })));
  }
  return diffs;
}

async function readAll(cluster: ClusterApi, objects: KubeObject[]): Promise<KubeObject[]> {
  const live: KubeObject[] = [];
  for (const o of objects) {
    const object = await cluster.read(keyOf(o));
    if (!object) throw new Error(`${objectRef(o)} is gone`);
    live.push(object);
  }
  return live;
}

describe('dry-run diff against the real API server', () => {
  const ns = useNamespace('kdr-diff');

  test(
    'same release: all unchanged; new image, build and Secret value: exactly those lines, ' + 'no value shown',
    async () => {
      const { source } = parseCheckRequest({ source: clusterSource({ namespace: ns.name }) });
      const cluster = connectCluster(resolveClusterAuth(source), { log: memoryLogger() });
      const first: ReleaseSpec = {
        app: 'web',
        namespace: ns.name,
        image: { repository: 'registry.local/team/web', tag: '1' },
        replicas: 2,
        port: 8080,
        servicePort: 80,
        env: { MODE: 'prod' },
        labels: {},
        annotations: {},
        path: '/',
        host: 'web.example.test',
        ingressAnnotations: {},
        extraObjects: extras(ns.name, firstPassword, false),
        buildAnnotations: { 'kubernetes-deploy-resource.io/build': '1' },
      };
      const applied = renderManifests(first);
      for (const object of applied) await cluster.apply(object);
      const before = await readAll(cluster, applied);

      const same = await dryRunDiffs(cluster, renderManifests(first));
      expect(same.map((d) => [d.ref, d.change, d.lines])).toEqual([
        ['secret/db', 'unchanged', []],
        ['deployment/web', 'unchanged', []],
        ['service/web', 'unchanged', []],
        ['ingress/web', 'unchanged', []],
      ]);

      const second: ReleaseSpec = {
        ...first,
        image: { repository: 'registry.local/team/web', tag: '2' },
        extraObjects: extras(ns.name, secondPassword, true),
        buildAnnotations: { 'kubernetes-deploy-resource.io/build': '2' },
      };
      const diffs = await dryRunDiffs(cluster, renderManifests(second));
      const changedLines = (d: ObjectDiff) => d.lines.filter((l) => /^[-+] /.test(l) || l.startsWith('data.'));
      const build = ['-    kubernetes-deploy-resource.io/build: "1"', '+    kubernetes-deploy-resource.io/build: "2"'];
      const version = ['-    app.kubernetes.io/version: "1"', '+    app.kubernetes.io/version: "2"'];
      expect(diffs.map((d) => [d.ref, d.change, changedLines(d)])).toEqual([
        ['secret/db', 'changed', [...build, ...version, 'data.password: changed', 'data.user: unchanged']],
        ['configmap/cache', 'created', expect.arrayContaining(['+  size: "64"'])],
        [
          'deployment/web',
          'changed',
          [
            ...build,
            ...version,
            // The pod template carries the version label too.
            '-        app.kubernetes.io/version: "1"',
            '+        app.kubernetes.io/version: "2"',
            '-          image: registry.local/team/web:1',
            '+          image: registry.local/team/web:2',
          ],
        ],
        ['service/web', 'changed', [...build, ...version]],
        ['ingress/web', 'changed', [...build, ...version]],
      ]);
      expect(formatDiffSummary(diffs, ['configmap/gone'])).toBe('4 changed, 0 unchanged, 1 created, 1 to prune');

      const text = JSON.stringify(diffs);
      for (const value of [firstPassword, secondPassword]) {
        expect(text).not.toContain(value);
        expect(text).not.toContain(Buffer.from(value).toString('base64'));
      }
      // The dry runs changed nothing the user wrote (the controller keeps updating the Deployment's status, so
      // resourceVersions are no measure here; the diff of the live objects before and after is, Secret values
      // included).
      const after = await readAll(cluster, applied);
      expect(after.map((object, i) => diffObject(before[i], object).change)).toEqual(applied.map(() => 'unchanged'));
      const generation = (objects: KubeObject[]) => objects.find((o) => o.kind === 'Deployment')?.metadata.generation;
      expect(generation(after)).toBe(generation(before));
    },
  );
});
