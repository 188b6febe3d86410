// Release records are listed as metadata only (issue 28): check decodes none, a put only the last deployed one and the
// attempts since it when it prunes, teardown each once. The fake cluster's `served` log holds every whole object a
// call handed back: a record not in it was never transferred, so it cannot have been decoded.
import { describe, expect, test } from 'vitest';
import { resolveClusterAuth } from '../../src/cluster/auth.js';
import { connectCluster, metadataListAccept } from '../../src/cluster/client.js';
import type { Transport } from '../../src/cluster/transport.js';
import { check } from '../../src/commands/check.js';
import { deployRelease } from '../../src/engine/deploy.js';
import { listRecords, readRecordSecrets, recordName } from '../../src/engine/records.js';
import { teardownRelease } from '../../src/engine/teardown.js';
import { memoryLogger } from '../../src/log.js';
import { parseCheckRequest } from '../../src/request/parse.js';
import type { FakeCluster } from '../support/fake-cluster.js';
import { deployInput, fakeWithController, teardownInput } from '../support/fake-release.js';

/** The release records of web the fake handed out whole since `from` (an index into fake.served), as `verb name`. */
const recordsServed = (fake: FakeCluster, from = 0) =>
  fake.served
    .slice(from)
    .filter((s) => s.kind === 'Secret' && s.name.startsWith('kdr-release.web.'))
    .map((s) => `${s.verb} ${s.name}`);

const put = (fake: FakeCluster, image: string, extra: Parameters<typeof deployInput>[1] = {}) =>
  fake.clock.run(deployRelease(deployInput(fake, { image: `registry.local/team/web:${image}`, ...extra })));

/** A fake with `n` deployed revisions of web. */
async function withRevisions(n: number, extra: Parameters<typeof deployInput>[1] = {}): Promise<FakeCluster> {
  const fake = fakeWithController((d) =>
    JSON.stringify(d).includes('web:bad')
      ? { pods: { waiting: 'ImagePullBackOff', message: 'not found' } }
      : { pods: 'ready' },
  );
  for (let i = 1; i <= n; i++) await put(fake, String(i), extra);
  return fake;
}

describe('check lists metadata only', () => {
  test('ten revisions: one metadata list, no record sent whole, the versions from labels and annotation', async () => {
    const fake = await withRevisions(10);
    const callsBefore = fake.calls.length;
    const servedBefore = fake.served.length;
    const versions = await check(
      parseCheckRequest({
        source: { cluster_url: fake.server, token: 'fake-token-0123456789', app: 'web', namespace: 'ns' },
      }),
      { log: memoryLogger(), env: {}, clock: fake.clock, connect: () => fake.client() },
    );
    expect(versions).toEqual([{ app: 'web', namespace: 'ns', revision: '10', image: 'registry.local/team/web:10' }]);
    expect(fake.log().slice(callsBefore)).toEqual(['listMetadata secret']);
    expect(fake.served.length).toBe(servedBefore);
  });
});

describe('a put decodes only the records it uses', () => {
  test('after ten deployed revisions: the last deployed record, read once; none else', async () => {
    const fake = await withRevisions(10);
    const from = fake.served.length;
    await put(fake, '11');
    // The read of revision 10; the record this put wrote comes back from its create and its two status patches.
    expect(recordsServed(fake, from)).toEqual([
      `read ${recordName('web', 10)}`,
      `create ${recordName('web', 11)}`,
      `patchMetadata ${recordName('web', 11)}`,
    ]);
  });

  test('with prune: also the attempts since the last deployed revision (failed), and only those', async () => {
    const fake = await withRevisions(3);
    await expect(put(fake, 'bad')).rejects.toThrow();
    const from = fake.served.length;
    await put(fake, '5', { prune: true });
    const reads = recordsServed(fake, from).filter((line) => line.startsWith('read '));
    expect(reads).toEqual([`read ${recordName('web', 3)}`, `read ${recordName('web', 4)}`]);
  });

  test('without prune the failed attempt is not read', async () => {
    const fake = await withRevisions(3);
    await expect(put(fake, 'bad')).rejects.toThrow();
    const from = fake.served.length;
    await put(fake, '5');
    expect(recordsServed(fake, from).filter((line) => line.startsWith('read '))).toEqual([
      `read ${recordName('web', 3)}`,
    ]);
  });
});

describe('readRecordSecrets', () => {
  test('reads what was listed; a record deleted or replaced (another uid) since the list is left out', async () => {
    const fake = await withRevisions(3);
    const api = fake.client();
    const listed = await listRecords(api, 'ns', 'web');
    const key = (revision: number) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: 'ns',
      name: recordName('web', revision),
    });
    const second = fake.get('v1', 'Secret', 'ns', recordName('web', 2))!;
    await api.remove(key(2));
    fake.seed({ ...second, metadata: { ...second.metadata, uid: undefined, resourceVersion: undefined } });
    await api.remove(key(3));
    const read = await readRecordSecrets(api, listed);
    expect(read.map((s) => s.metadata.name)).toEqual([recordName('web', 1)]);
  });
});

describe('teardown reads every record once (it uses each)', () => {
  test('three revisions and an extra Secret: three reads, no record through the list of Secrets', async () => {
    const manifests = 'apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: canary-pw-71f2}\n';
    const fake = await withRevisions(3, { manifests });
    const from = fake.served.length;
    const result = await fake.clock.run(teardownRelease(teardownInput(fake)));
    expect(recordsServed(fake, from).sort()).toEqual([1, 2, 3].map((r) => `read ${recordName('web', r)}`));
    expect(result.deleted).toContain('secret/db');
    expect(fake.objects('Secret', 'ns')).toEqual([]);
  });
});

describe('the client asks for a PartialObjectMetadataList', () => {
  const auth = resolveClusterAuth(
    parseCheckRequest({
      source: { app: 'web', namespace: 'staging', cluster_url: 'https://k8s.example.com:6443', token: 'a-token-0123' },
    }).source,
  );
  const secret = (name: string) => ({
    metadata: { name, namespace: 'staging', labels: { app: 'web' } },
    data: { release: 'c2VjcmV0LXJlbGVhc2UtY29udGVudA==' },
  });
  /** A transport answering every request with `body`, recording the URL and headers it was sent. */
  const answering = (body: unknown) => {
    const sent: { url: string; headers: Record<string, string> }[] = [];
    const transport: Transport = {
      request: (_method, url, headers) => {
        sent.push({ url: url.toString(), headers });
        return Promise.resolve({ status: 200, headers: {}, text: JSON.stringify(body) });
      },
      stream: () => () => undefined,
    };
    return { sent, transport };
  };

  test('sends the Accept header and the selector; the items name the listed kind and hold metadata only', async () => {
    const { sent, transport } = answering({
      kind: 'PartialObjectMetadataList',
      apiVersion: 'meta.k8s.io/v1',
      metadata: { resourceVersion: '42' },
      items: [{ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: secret('a').metadata }],
    });
    const log = memoryLogger();
    const cluster = connectCluster(auth, { log, transport });
    const list = await cluster.listMetadata('v1', 'Secret', 'staging', 'app=web');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers.Accept).toBe(metadataListAccept);
    expect(metadataListAccept.split(',')[0]).toBe('application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1');
    expect(sent[0]!.url).toBe('https://k8s.example.com:6443/api/v1/namespaces/staging/secrets?labelSelector=app%3Dweb');
    expect(list).toEqual({
      items: [{ apiVersion: 'v1', kind: 'Secret', metadata: secret('a').metadata }],
      resourceVersion: '42',
    });
    expect(log.lines).toEqual([]);
  });

  test('a server that sends whole objects anyway: only their metadata is kept, and a line says so', async () => {
    const { transport } = answering({ kind: 'SecretList', apiVersion: 'v1', items: [secret('a'), secret('b')] });
    const log = memoryLogger();
    const list = await connectCluster(auth, { log, transport }).listMetadata('v1', 'Secret', 'staging', 'app=web');
    expect(list.items.map((i) => Object.keys(i).sort())).toEqual([
      ['apiVersion', 'kind', 'metadata'],
      ['apiVersion', 'kind', 'metadata'],
    ]);
    expect(JSON.stringify(list)).not.toContain('c2VjcmV0');
    expect(log.lines).toEqual(['the API server answered a metadata list of secrets with SecretList']);
  });
});
