// Which objects a put prunes: pure, from the records and the new object set.
import { describe, expect, test } from 'vitest';
import { encodeRecord, type ReleaseRecord } from '../../src/engine/records.js';
import { pruneCandidates } from '../../src/engine/prune.js';
import { objectRef, type KubeObject } from '../../src/kube/object.js';

const obj = (kind: string, name: string, apiVersion = 'v1'): KubeObject => ({ apiVersion, kind, metadata: { name, namespace: 'ns' } });
const record = (revision: number, objects: KubeObject[]): ReleaseRecord => ({
  app: 'web', namespace: 'ns', revision, image: { repository: 'r', tag: String(revision), ref: `r:${revision}` }, objects, build: {}, createdAt: '2026-01-01T00:00:00.000Z', contentHash: String(revision),
});
const secretOf = (r: ReleaseRecord, status: 'deployed' | 'failed' | 'pending') => encodeRecord(r, status);
const refs = (objects: KubeObject[]) => objects.map(objectRef).sort();

describe('pruneCandidates', () => {
  const web = [obj('Deployment', 'web', 'apps/v1'), obj('Service', 'web')];

  test('what the last deployed revision had and the new one has not', () => {
    const last = record(1, [...web, obj('ConfigMap', 'web-extra'), obj('ConfigMap', 'web-db')]);
    expect(refs(pruneCandidates([secretOf(last, 'deployed')], last, [...web, obj('ConfigMap', 'web-db')]))).toEqual(['configmap/web-extra']);
  });

  test('nothing before a first deploy, nothing when the set is the same', () => {
    expect(pruneCandidates([], undefined, web)).toEqual([]);
    const last = record(1, web);
    expect(pruneCandidates([secretOf(last, 'deployed')], last, web)).toEqual([]);
  });

  test('objects added by failed or cut-off puts since the last good one count too; older failures do not', () => {
    const old = record(1, [...web, obj('ConfigMap', 'ancient')]);
    const last = record(2, web);
    const failed = record(3, [...web, obj('ConfigMap', 'tried')]);
    const pending = record(4, [...web, obj('Secret', 'cut-off')]);
    const records = [secretOf(old, 'failed'), secretOf(last, 'deployed'), secretOf(failed, 'failed'), secretOf(pending, 'pending')];
    expect(refs(pruneCandidates(records, last, web))).toEqual(['configmap/tried', 'secret/cut-off']);
  });

  test('a change of kind under the same name is a new object; a change of apiVersion alone is not', () => {
    const last = record(1, [...web, obj('ConfigMap', 'web-extra'), obj('Ingress', 'web', 'networking.k8s.io/v1beta1')]);
    const next = [...web, obj('Secret', 'web-extra'), obj('Ingress', 'web', 'networking.k8s.io/v1')];
    expect(refs(pruneCandidates([secretOf(last, 'deployed')], last, next))).toEqual(['configmap/web-extra']);
  });

  test('a failed attempt not yet listed (the rollback case) is included', () => {
    const last = record(1, web);
    expect(refs(pruneCandidates([secretOf(last, 'deployed')], last, web, [...web, obj('ConfigMap', 'new')]))).toEqual(['configmap/new']);
  });
});
