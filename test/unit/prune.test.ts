// Which objects a put prunes: pure, from the records and the new object set.
import { describe, expect, test } from 'vitest';
import { decodeRecord, encodeRecord, type ReleaseRecord } from '../../src/engine/records.js';
import { ApiRejectedError } from '../../src/errors.js';
import { pruneCandidates } from '../../src/engine/prune.js';
import { labelKeys, managedBy } from '../../src/kube/labels.js';
import { objectRef, type KubeObject } from '../../src/kube/object.js';

const obj = (kind: string, name: string, apiVersion = 'v1'): KubeObject => ({
  apiVersion,
  kind,
  // As rendered: in the release's namespace, with its ownership labels (a record without them is not trusted).
  metadata: { name, namespace: 'ns', labels: { [labelKeys.instance]: 'web', [labelKeys.managedBy]: managedBy } },
});
const record = (revision: number, objects: KubeObject[]): ReleaseRecord => ({
  app: 'web',
  namespace: 'ns',
  revision,
  image: { repository: 'r', tag: String(revision), ref: `r:${revision}` },
  objects,
  build: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  contentHash: String(revision),
});
const secretOf = (r: ReleaseRecord, status: 'deployed' | 'failed' | 'pending') => encodeRecord(r, status);
const refs = (objects: KubeObject[]) => objects.map(objectRef).sort();

describe('pruneCandidates', () => {
  const web = [obj('Deployment', 'web', 'apps/v1'), obj('Service', 'web')];

  test('what the last deployed revision had and the new one has not', () => {
    const last = record(1, [...web, obj('ConfigMap', 'web-extra'), obj('ConfigMap', 'web-db')]);
    expect(refs(pruneCandidates([secretOf(last, 'deployed')], last, [...web, obj('ConfigMap', 'web-db')]))).toEqual([
      'configmap/web-extra',
    ]);
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
    const records = [
      secretOf(old, 'failed'),
      secretOf(last, 'deployed'),
      secretOf(failed, 'failed'),
      secretOf(pending, 'pending'),
    ];
    expect(refs(pruneCandidates(records, last, web))).toEqual(['configmap/tried', 'secret/cut-off']);
  });

  test('a change of kind under the same name is a new object; a change of apiVersion alone is not', () => {
    const last = record(1, [...web, obj('ConfigMap', 'web-extra'), obj('Ingress', 'web', 'networking.k8s.io/v1beta1')]);
    const next = [...web, obj('Secret', 'web-extra'), obj('Ingress', 'web', 'networking.k8s.io/v1')];
    expect(refs(pruneCandidates([secretOf(last, 'deployed')], last, next))).toEqual(['configmap/web-extra']);
  });

  test('a failed attempt not yet listed (the rollback case) is included', () => {
    const last = record(1, web);
    expect(refs(pruneCandidates([secretOf(last, 'deployed')], last, web, [...web, obj('ConfigMap', 'new')]))).toEqual([
      'configmap/new',
    ]);
  });
});

describe('decodeRecord', () => {
  test('a record changed by hand or cut short is refused with exit 4 and what to do, never an internal error', () => {
    const good = encodeRecord(record(1, []), 'deployed');
    const broken = [
      { ...good, data: {} },
      { ...good, data: { release: 'bm90IGd6aXA=' } },
      { ...good, data: { release: (good.data as { release: string }).release.slice(0, 40) } },
      { ...good, data: { release: Buffer.from(JSON.stringify({ revision: 1 })).toString('base64') } },
    ];
    for (const secret of broken) {
      let caught: unknown;
      try {
        decodeRecord(secret as KubeObject);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ApiRejectedError);
      expect((caught as ApiRejectedError).exitCode).toBe(4);
      expect((caught as Error).message).toBe(
        'secret/kdr-release.web.v1 in namespace ns is not a readable release record ' +
          '(data.release is missing or corrupt); delete it or restore it from a backup',
      );
    }
    expect(decodeRecord(good).revision).toBe(1);
  });
});
