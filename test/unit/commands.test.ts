// check, in and out as functions (src/commands/*.ts) with CommandDeps pointing at the in-memory cluster: the whole
// put → get → check → delete cycle in milliseconds. The compiled scripts and the real API are proven by
// test/contract and test/integration.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { ClusterAuth } from '../../src/cluster/auth.js';
import { check } from '../../src/commands/check.js';
import type { CommandDeps } from '../../src/commands/context.js';
import { get } from '../../src/commands/in.js';
import { out as putPlan } from '../../src/commands/out.js';
import { planPut } from '../../src/request/plan.js';
import { recordName } from '../../src/engine/records.js';
import { BadRequestError, RolloutFailedError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';
import type { BuildEnv } from '../../src/request/build-env.js';
import { parseCheckRequest, parseInRequest } from '../../src/request/parse.js';
import type { FakeCluster } from '../support/fake-cluster.js';
import { fakeWithController } from '../support/fake-release.js';
import { tempDirs } from '../support/temp-dirs.js';

/** As the out entrypoint runs it: the request planned (planPut), then the command; a refused request rejects. */
const out = async (request: unknown, dir: string, deps: CommandDeps) => putPlan(planPut(request, deps.env), dir, deps);

const token = 'fake-cluster-token-0123456789';
const source = { cluster_url: 'https://fake-cluster.test', token, app: 'web', namespace: 'ns', history_limit: 3 };

const tempDir = tempDirs('commands');

/** Deps wired to the fake; `connected` records what each connect was given. */
function depsFor(fake: FakeCluster, env: BuildEnv = {}) {
  const connected: ClusterAuth[] = [];
  const log = memoryLogger();
  const deps: CommandDeps = {
    log,
    env,
    clock: fake.clock,
    processId: 4242,
    connect: (auth, options) => {
      connected.push(auth);
      return fake.client(options.signal);
    },
  };
  return { deps, connected, log };
}

const put = (fake: FakeCluster, params: Record<string, unknown>, deps = depsFor(fake).deps, sources = tempDir()) =>
  fake.clock.run(out({ source, params }, sources, deps));

describe('out, in and check as functions', () => {
  test('put: deploys, answers the version and metadata; the credentials reach connect and nothing else', async () => {
    const fake = fakeWithController();
    const { deps, connected, log } = depsFor(fake, {
      BUILD_PIPELINE_NAME: 'shop',
      BUILD_JOB_NAME: 'deploy',
      BUILD_NAME: '12',
    });
    const response = await put(
      fake,
      { image_ref: 'registry.local/team/web:1', replicas: 2, host: 'web.example.com' },
      deps,
    );
    expect(response.version).toEqual({
      app: 'web',
      namespace: 'ns',
      revision: '1',
      image: 'registry.local/team/web:1',
    });
    expect(Object.fromEntries(response.metadata.map((m) => [m.name, m.value]))).toEqual({
      namespace: 'ns',
      app: 'web',
      revision: '1',
      image: 'registry.local/team/web:1',
      objects: 'deployment/web, service/web, ingress/web',
      url: 'http://web.example.com/',
      rollout_duration: '0ms',
      pruned: 'nothing',
      mode: 'apply',
    });
    expect(connected).toEqual([
      { kind: 'direct', server: 'https://fake-cluster.test', token, skipTlsVerify: false, requestTimeoutMs: 30_000 },
    ]);
    expect(log.lines.join('\n')).not.toContain(token);
    // The lock names the build.
    expect(fake.get('apps/v1', 'Deployment', 'ns', 'web')?.metadata.annotations).toMatchObject({
      'kubernetes-deploy-resource.io/pipeline': 'shop',
      'kubernetes-deploy-resource.io/build': '12',
    });
    expect(fake.log('create')[0]).toBe('create lease/kdr-lock.web');
  });

  test('check: the deployed revisions from the given version on; the newest alone without one', async () => {
    const fake = fakeWithController();
    for (const tag of ['1', '2', '3']) await put(fake, { image_ref: `registry.local/team/web:${tag}` });
    const { deps } = depsFor(fake);
    const v = (revision: string) => ({
      app: 'web',
      namespace: 'ns',
      revision,
      image: `registry.local/team/web:${revision}`,
    });
    expect(await check(parseCheckRequest({ source }), deps)).toEqual([v('3')]);
    expect(await check(parseCheckRequest({ source, version: v('2') }), deps)).toEqual([v('2'), v('3')]);
    // A version that no longer exists (pruned): the newest only.
    await put(fake, { image_ref: 'registry.local/team/web:4' });
    expect(await check(parseCheckRequest({ source, version: v('1') }), deps)).toEqual([v('4')]);
    // Another app's or namespace's version is no starting point either.
    expect(await check(parseCheckRequest({ source, version: { ...v('3'), namespace: 'other' } }), deps)).toEqual([
      v('4'),
    ]);
  });

  test('check skips failed revisions; in of one writes no manifests and says why', async () => {
    const fake = fakeWithController((d) =>
      JSON.stringify(d).includes('web:bad') ? { pods: { waiting: 'ErrImagePull' } } : { pods: 'ready' },
    );
    await put(fake, { image_ref: 'registry.local/team/web:1' });
    await expect(put(fake, { image_ref: 'registry.local/team/web:bad' })).rejects.toBeInstanceOf(RolloutFailedError);
    const { deps } = depsFor(fake);
    expect((await check(parseCheckRequest({ source }), deps)).map((v) => v.revision)).toEqual(['1']);
    const failed = { app: 'web', namespace: 'ns', revision: '2', image: 'registry.local/team/web:bad' };
    const destination = tempDir();
    const response = await get(parseInRequest({ source, version: failed }), destination, deps);
    expect(response.metadata).toContainEqual({
      name: 'gone',
      value: 'revision 2 of web in namespace ns is recorded as failed, not deployed',
    });
    expect(() => readFileSync(join(destination, 'manifests.yml'))).toThrow(/ENOENT/);
  });

  test('in: writes the recorded release (Secrets without values) and its metadata', async () => {
    const fake = fakeWithController();
    const sources = tempDir();
    writeFileSync(
      join(sources, 'extra.yml'),
      'apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: canary-db-password-5e1d}\n',
    );
    const { version } = await put(
      fake,
      { image_ref: 'registry.local/team/web:1', manifests: ['extra.yml'] },
      undefined,
      sources,
    );
    const destination = tempDir();
    const { deps } = depsFor(fake);
    const response = await get(parseInRequest({ source, version }), destination, deps);
    expect(response.version).toEqual(version);
    const manifests = readFileSync(join(destination, 'manifests.yml'), 'utf8');
    expect(manifests).toMatch(/kind: Secret[\s\S]*password: <redacted>/);
    expect(manifests).not.toContain('canary-db-password-5e1d');
    expect(readFileSync(join(destination, 'image'), 'utf8')).toBe('registry.local/team/web:1');
    expect(JSON.parse(readFileSync(join(destination, 'metadata.json'), 'utf8'))).toMatchObject({
      version,
      app: 'web',
      revision: 1,
      objects: 3,
    });
  });

  test(
    'put with delete: tears down, answers a deleted version; ' + 'in of it writes the marker without a connection',
    async () => {
      const fake = fakeWithController();
      await put(fake, { image_ref: 'registry.local/team/web:1' });
      await put(fake, { image_ref: 'registry.local/team/web:2' });
      const response = await put(fake, { delete: true });
      expect(response.version).toEqual({
        app: 'web',
        namespace: 'ns',
        revision: '2',
        image: 'registry.local/team/web:2',
        deleted: 'true',
      });
      expect(fake.objects('Deployment', 'ns')).toEqual([]);
      expect(fake.get('v1', 'Secret', 'ns', recordName('web', 2))).toBeUndefined();

      const { deps, connected } = depsFor(fake);
      const destination = tempDir();
      const got = await get(parseInRequest({ source, version: response.version }), destination, deps);
      expect(got.version).toEqual(response.version);
      expect(readFileSync(join(destination, 'deleted'), 'utf8')).toBe('true\n');
      expect(connected).toEqual([]);
      // check after the teardown: nothing.
      expect(await check(parseCheckRequest({ source }), deps)).toEqual([]);
      // And the teardown again (the re-put): nothing to do, revision 0.
      expect((await put(fake, { delete: true })).version).toMatchObject({ revision: '0', deleted: 'true' });
    },
  );

  test('a bad request fails before any connection or call', async () => {
    const fake = fakeWithController();
    const { deps, connected } = depsFor(fake);
    await expect(fake.clock.run(out({ source, params: { replicas: 2 } }, tempDir(), deps))).rejects.toBeInstanceOf(
      BadRequestError,
    );
    await expect(
      fake.clock.run(
        out(
          { source, params: { image_ref: 'registry.local/team/web:1', namespace: '${BUILD_NAME}' } },
          tempDir(),
          deps,
        ),
      ),
    ).rejects.toThrow(/params.namespace: .*\(after expanding build variables\)|params.namespace: .*BUILD_NAME/);
    await expect(
      fake.clock.run(
        out(
          { source, params: { image_ref: 'registry.local/team/web:1', manifests: ['missing.yml'] } },
          tempDir(),
          deps,
        ),
      ),
    ).rejects.toBeInstanceOf(BadRequestError);
    expect(connected).toEqual([]);
    expect(fake.calls).toEqual([]);
  });

  test(
    'params.namespace with ${BUILD_NAME}: a namespace per build, ' + 'created and torn down with the release',
    async () => {
      const fake = fakeWithController();
      const env = { BUILD_NAME: '42' };
      const params = {
        image_ref: 'registry.local/team/web:1',
        namespace: 'web-pr-${BUILD_NAME}',
        create_namespace: true,
      };
      const response = await put(fake, params, depsFor(fake, env).deps);
      expect(response.version.namespace).toBe('web-pr-42');
      expect(fake.get('apps/v1', 'Deployment', 'web-pr-42', 'web')).toBeDefined();
      await put(
        fake,
        { namespace: 'web-pr-${BUILD_NAME}', delete: true, delete_namespace: true },
        depsFor(fake, env).deps,
      );
      expect(fake.get('v1', 'Namespace', undefined, 'web-pr-42')).toBeUndefined();
    },
  );
});
