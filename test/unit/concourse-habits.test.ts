// Concourse's own habits (issue 24) on the in-memory cluster: a rerun's BUILD_NAME `42.1`, two instances of one
// pipeline at once, the build URL of an instance, and promotion from a version whose release is gone (torn down,
// swept, pruned, its revision number used again). The same chain through the compiled scripts and the real API is
// test/integration/concourse-habits.test.ts.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { CommandDeps } from '../../src/commands/context.js';
import { get } from '../../src/commands/in.js';
import { out as putPlan } from '../../src/commands/out.js';
import { planPut } from '../../src/request/plan.js';
import { encodeRecord, recordName } from '../../src/engine/records.js';
import { ApiRejectedError, BadRequestError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';
import { buildAnnotations, buildUrl, instanceVarsQuery } from '../../src/output/build-env.js';
import type { BuildEnv } from '../../src/request/build-env.js';
import { parseInRequest } from '../../src/request/parse.js';
import { nameSafe } from '../../src/request/plan.js';
import type { FakeCluster } from '../support/fake-cluster.js';
import { fakeWithController } from '../support/fake-release.js';
import { tempDirs } from '../support/temp-dirs.js';

/** As the out entrypoint runs it: the request planned (planPut), then the command; a refused request rejects. */
const out = async (request: unknown, dir: string, deps: CommandDeps) => putPlan(planPut(request, deps.env), dir, deps);

const token = 'fake-cluster-token-0123456789';
const source = { cluster_url: 'https://fake-cluster.test', token, app: 'web', namespace: 'ns', history_limit: 3 };
const digestOf = (seed: string) => 'sha256:' + seed.repeat(64).slice(0, 64);
const imageX = `registry.local/team/web@${digestOf('a')}`;
const imageY = `registry.local/team/web@${digestOf('b')}`;

const tempDir = tempDirs('habits');

/** The environment Concourse gives a step of build `name` (id `id`) of job `staging` in pipeline `shop`. */
const concourseEnv = (name: string, id: string, instanceVars?: object): BuildEnv => ({
  BUILD_ID: id,
  BUILD_NAME: name,
  BUILD_JOB_NAME: 'staging',
  BUILD_PIPELINE_NAME: 'shop',
  BUILD_TEAM_NAME: 'main',
  ATC_EXTERNAL_URL: 'https://ci.example.com',
  ...(instanceVars ? { BUILD_PIPELINE_INSTANCE_VARS: JSON.stringify(instanceVars) } : {}),
});

function depsFor(fake: FakeCluster, env: BuildEnv = {}): CommandDeps & { connects: number } {
  const deps = {
    log: memoryLogger(),
    env,
    clock: fake.clock,
    connects: 0,
    connect: (_auth: unknown, options: { signal?: AbortSignal }) => {
      deps.connects++;
      return fake.client(options.signal);
    },
  };
  return deps;
}

const put = (fake: FakeCluster, params: Record<string, unknown>, env: BuildEnv = {}, sources = tempDir()) =>
  fake.clock.run(out({ source, params }, sources, depsFor(fake, env)));

/** A get of the version into `<root>/<name>`, as Concourse lays out a build's artifacts. */
async function getInto(fake: FakeCluster, version: Record<string, string>, root: string, name: string) {
  const dir = join(root, name);
  const response = await fake.clock.run(get(parseInRequest({ source, version }), dir, depsFor(fake)));
  const files = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  return { response, files, metadata: Object.fromEntries(response.metadata.map((m) => [m.name, m.value])) };
}

describe('build variables in names', () => {
  test.each<[string, string]>([
    ['42', '42'],
    ['42.1', '42-1'],
    ['42.1.3', '42-1-3'],
    ['Deploy_Staging', 'deploy-staging'],
    ['a b/c:d', 'a-b-c-d'],
  ])('%s becomes %s', (value, expected) => expect(nameSafe(value)).toBe(expected));

  test("a rerun's BUILD_NAME 42.1 gives namespace staging-42-1 and host web-42-1.staging.internal", async () => {
    const fake = fakeWithController();
    const response = await put(
      fake,
      {
        image_ref: imageX,
        namespace: 'staging-${BUILD_NAME}',
        create_namespace: true,
        host: 'web-${BUILD_NAME}.staging.internal',
      },
      concourseEnv('42.1', '1042'),
    );
    expect(response.version).toMatchObject({ namespace: 'staging-42-1', revision: '1' });
    const ingress = fake.get('networking.k8s.io/v1', 'Ingress', 'staging-42-1', 'web') as unknown as {
      spec: { rules: { host: string }[] };
    };
    expect(ingress.spec.rules[0]!.host).toBe('web-42-1.staging.internal');
    // Only the values change: what is written around them is still checked as it stands, and the result again.
    await expect(
      put(fake, { image_ref: imageX, namespace: 'Staging-${BUILD_NAME}' }, concourseEnv('42.1', '1042')),
    ).rejects.toThrow(/^params\.namespace: not a valid namespace name/);
    await expect(
      put(fake, { image_ref: imageX, namespace: 'staging-${BUILD_NAME}' }, concourseEnv('42.', '1042')),
    ).rejects.toThrow(
      new BadRequestError(
        'params.namespace: "staging-42-" (after expanding build variables) is not a valid namespace name ' +
          '(lowercase letters, digits and -, at most 63)',
      ),
    );
  });
});

describe('the build URL and annotations', () => {
  const base = concourseEnv('5', '1234');
  test.each<[string, BuildEnv, string | undefined]>([
    ['a plain pipeline', base, 'https://ci.example.com/teams/main/pipelines/shop/jobs/staging/builds/5'],
    [
      'an instance: the query Concourse writes (vars.<name>=<JSON>)',
      { ...base, BUILD_PIPELINE_INSTANCE_VARS: '{"branch":"a"}' },
      'https://ci.example.com/teams/main/pipelines/shop/jobs/staging/builds/5?vars.branch=%22a%22',
    ],
    [
      'nested vars flattened to dotted paths, sorted, query-escaped',
      { ...base, BUILD_PIPELINE_INSTANCE_VARS: '{"z":1,"pr":{"number":7,"title":"it\'s a fix"},"a.b":true}' },
      'https://ci.example.com/teams/main/pipelines/shop/jobs/staging/builds/5' +
        '?vars.%22a.b%22=true&vars.pr.number=7&vars.pr.title=%22it%27s+a+fix%22&vars.z=1',
    ],
    [
      'a rerun',
      { ...base, BUILD_NAME: '5.1' },
      'https://ci.example.com/teams/main/pipelines/shop/jobs/staging/builds/5.1',
    ],
    [
      'instance vars that are not a JSON object: the build page by id',
      { ...base, BUILD_PIPELINE_INSTANCE_VARS: 'branch=a' },
      'https://ci.example.com/builds/1234',
    ],
    [
      'BUILD_URL when Concourse sets it',
      { ...base, BUILD_URL: 'https://ci.example.com/x/7' },
      'https://ci.example.com/x/7',
    ],
    [
      'a one-off build (no job)',
      { BUILD_ID: '9', ATC_EXTERNAL_URL: 'https://ci.example.com/' },
      'https://ci.example.com/builds/9',
    ],
    ['no ATC_EXTERNAL_URL', { BUILD_NAME: '5' }, undefined],
  ])('%s', (_, env, expected) => expect(buildUrl(env)).toBe(expected));

  test('an empty instance-vars object adds no query', () => expect(instanceVarsQuery('{}')).toBe(''));

  test('the instance vars and the build id are annotations', () => {
    expect(buildAnnotations({ ...base, BUILD_PIPELINE_INSTANCE_VARS: '{"branch":"a"}' })).toEqual({
      'kubernetes-deploy-resource.io/pipeline': 'shop',
      'kubernetes-deploy-resource.io/instance-vars': '{"branch":"a"}',
      'kubernetes-deploy-resource.io/job': 'staging',
      'kubernetes-deploy-resource.io/build': '5',
      'kubernetes-deploy-resource.io/build-id': '1234',
      'kubernetes-deploy-resource.io/build-url':
        'https://ci.example.com/teams/main/pipelines/shop/jobs/staging/builds/5?vars.branch=%22a%22',
    });
  });
});

describe('two instances of one pipeline at once', () => {
  test('build 5 of each: ${BUILD_ID} keeps them apart, a teardown leaves the other; in shows it', async () => {
    const fake = fakeWithController();
    fake.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    const a = concourseEnv('5', '301', { branch: 'a' });
    const b = concourseEnv('5', '302', { branch: 'b' });
    const params = { namespace: 'staging-${BUILD_ID}', create_namespace: true, host: 'web-${BUILD_ID}.staging.test' };
    const [putA, putB] = await Promise.all([
      put(fake, { ...params, image_ref: imageX }, a),
      put(fake, { ...params, image_ref: imageY }, b),
    ]);
    expect(putA.version).toEqual({ app: 'web', namespace: 'staging-301', revision: '1', image: imageX });
    expect(putB.version).toEqual({ app: 'web', namespace: 'staging-302', revision: '1', image: imageY });
    // The same per-build name from BUILD_NAME would have been staging-5 for both.
    expect(nameSafe(a.BUILD_NAME!)).toBe(nameSafe(b.BUILD_NAME!));

    const deployment = fake.get('apps/v1', 'Deployment', 'staging-302', 'web')!;
    expect(deployment.metadata.annotations).toMatchObject({
      'kubernetes-deploy-resource.io/instance-vars': '{"branch":"b"}',
      'kubernetes-deploy-resource.io/build-url':
        'https://ci.example.com/teams/main/pipelines/shop/jobs/staging/builds/5?vars.branch=%22b%22',
    });

    await put(fake, { delete: true, delete_namespace: true, namespace: 'staging-${BUILD_ID}' }, a);
    expect(fake.get('apps/v1', 'Deployment', 'staging-301', 'web')).toBeUndefined();
    expect(fake.get('apps/v1', 'Deployment', 'staging-302', 'web')).toBeDefined();

    const got = await getInto(fake, putB.version, tempDir(), 'staging');
    expect(got.files['manifests.yml']).toContain('kind: Deployment');
    expect(got.metadata).toMatchObject({
      build_pipeline: 'shop',
      build_instance_vars: '{"branch":"b"}',
      build_job: 'staging',
      build_name: '5',
      build_id: '302',
      build_url: 'https://ci.example.com/teams/main/pipelines/shop/jobs/staging/builds/5?vars.branch=%22b%22',
    });
  });
});

describe('in of a version whose release is gone', () => {
  const registryFiles = (image: string) => {
    const [repository, digest] = image.split('@');
    return { repository, tag: '', digest, image };
  };

  test(
    'staging → teardown → production, as Concourse chains them: both versions of the staging job promote ' +
      'the image that was tested',
    async () => {
      const fake = fakeWithController();
      const env = concourseEnv('42.1', '1042');
      const staging = { namespace: 'staging-${BUILD_ID}', create_namespace: true };
      // Job staging: put (deploy) → implicit get → put (teardown, no_get: true: no get runs).
      const deployed = await put(fake, { ...staging, image_ref: imageX }, env);
      const implicit = await getInto(fake, deployed.version, tempDir(), 'staging');
      expect(implicit.files['manifests.yml']).toContain(imageX);
      const teardown = await put(fake, { delete: true, delete_namespace: true, namespace: 'staging-${BUILD_ID}' }, env);
      expect(teardown.version).toEqual({ ...deployed.version, deleted: 'true' });
      expect(fake.get('v1', 'Namespace', undefined, 'staging-1042')).toBeUndefined();

      // Job production: get staging (passed: [staging]) → put production with image: staging. Either version of the
      // staging job may be the one fetched.
      for (const version of [teardown.version, deployed.version]) {
        const sources = tempDir();
        const got = await getInto(fake, version, sources, 'staging');
        expect(got.files).toMatchObject({ ...registryFiles(imageX), app: 'web', namespace: 'staging-1042' });
        expect(got.files['manifests.yml']).toBeUndefined();
        expect(got.files.gone).toMatch(
          version.deleted
            ? /^release web was torn down from namespace staging-1042 by the put that reported this version/
            : /^no record of web in namespace staging-1042 is left: the release was torn down or swept/,
        );
        expect(got.metadata.gone).toBe(got.files.gone!.trim());

        const production = await fake.clock.run(
          out(
            { source: { ...source, namespace: 'prod' }, params: { image: 'staging', create_namespace: true } },
            sources,
            depsFor(fake, concourseEnv('7', '1050')),
          ),
        );
        expect(production.version.image).toBe(imageX);
        const container = (
          fake.get('apps/v1', 'Deployment', 'prod', 'web') as unknown as {
            spec: { template: { spec: { containers: { image: string }[] } } };
          }
        ).spec.template.spec.containers[0]!;
        expect(container.image).toBe(imageX);
      }
    },
  );

  test("a teardown's version writes the marker without a connection", async () => {
    const fake = fakeWithController();
    const deps = depsFor(fake);
    const version = { app: 'web', namespace: 'ns', revision: '2', image: imageX, deleted: 'true' };
    await fake.clock.run(get(parseInRequest({ source, version }), tempDir(), deps));
    expect(deps.connects).toBe(0);
  });

  test('a teardown that found nothing: says so, no image', async () => {
    const fake = fakeWithController();
    const version = { app: 'web', namespace: 'ns', revision: '0', image: '', deleted: 'true' };
    const got = await getInto(fake, version, tempDir(), 'teardown');
    expect(got.files.gone).toBe(
      'the put that reported this version (delete: true) found no release of web in namespace ns\n',
    );
    expect(got.files.repository).toBeUndefined();
  });

  test("a sweep's version: the marker, no image", async () => {
    const fake = fakeWithController();
    const version = { app: 'web', namespace: '*', revision: '0', image: '', deleted: 'true' };
    const got = await getInto(fake, version, tempDir(), 'sweep');
    expect(Object.keys(got.files).sort()).toEqual(['app', 'deleted', 'gone', 'metadata.json', 'namespace', 'revision']);
    expect(got.files.gone).toMatch(/^this is the version of a sweep of web, which spans namespaces/);
  });

  test('a revision pruned from the history (history_limit)', async () => {
    const fake = fakeWithController();
    const versions = [];
    for (const tag of ['1', '2', '3', '4'])
      versions.push((await put(fake, { image_ref: `registry.local/w:${tag}` })).version);
    const got = await getInto(fake, versions[0]!, tempDir(), 'old');
    expect(got.files.gone).toBe(
      'revision 1 was pruned from the history of web in namespace ns (history_limit; the oldest left is 2)\n',
    );
    expect(got.files).toMatchObject({ repository: 'registry.local/w', tag: '1', digest: '', revision: '1' });
  });

  test('a revision number used again after a teardown: in never hands over the other release (#23.8)', async () => {
    const fake = fakeWithController();
    const first = await put(fake, { image_ref: imageX });
    await put(fake, { delete: true });
    const second = await put(fake, { image_ref: imageY });
    expect(second.version).toEqual({ ...first.version, image: imageY });

    const old = await getInto(fake, first.version, tempDir(), 'old');
    expect(old.files['manifests.yml']).toBeUndefined();
    expect(old.files).toMatchObject(registryFiles(imageX));
    expect(old.files.gone).toMatch(
      new RegExp(`^revision 1 of web in namespace ns is now another release \\(${imageY.replace(/[.]/g, '\\.')}, `),
    );
    const current = await getInto(fake, second.version, tempDir(), 'new');
    expect(current.files['manifests.yml']).toContain(imageY);
    expect(current.files.gone).toBeUndefined();
  });

  test('torn down and deployed again past the revision asked for', async () => {
    const fake = fakeWithController();
    await put(fake, { image_ref: 'registry.local/w:1' });
    const second = await put(fake, { image_ref: 'registry.local/w:2' });
    await put(fake, { delete: true });
    await put(fake, { image_ref: 'registry.local/w:3' });
    const got = await getInto(fake, second.version, tempDir(), 'old');
    expect(got.files.gone).toBe(
      'revision 2 of web in namespace ns is gone: the release was torn down and deployed again (newest: 1)\n',
    );
  });

  test('a failed revision: what the version carries, and why', async () => {
    const fake = fakeWithController((d) =>
      JSON.stringify(d).includes('w:bad') ? { pods: { waiting: 'ErrImagePull' } } : { pods: 'ready' },
    );
    await put(fake, { image_ref: 'registry.local/w:1' });
    await put(fake, { image_ref: 'registry.local/w:bad' }).catch(() => undefined);
    const version = { app: 'web', namespace: 'ns', revision: '2', image: 'registry.local/w:bad' };
    const got = await getInto(fake, version, tempDir(), 'failed');
    expect(got.files.gone).toBe('revision 2 of web in namespace ns is recorded as failed, not deployed\n');
    expect(got.files.tag).toBe('bad');
  });

  test('a record that names another release than its Secret is refused (exit 4), not handed over', async () => {
    const fake = fakeWithController();
    const { version } = await put(fake, { image_ref: imageX });
    const forged = encodeRecord(
      {
        app: 'api',
        namespace: 'ns',
        revision: 1,
        image: { repository: 'registry.local/team/web', digest: digestOf('a'), ref: imageX },
        objects: [],
        build: {},
        createdAt: new Date(0).toISOString(),
        contentHash: '',
      },
      'deployed',
    );
    fake.seed({ ...forged, metadata: { ...forged.metadata, name: recordName('web', 1) } });
    const error = await fake.clock
      .run(get(parseInRequest({ source, version }), tempDir(), depsFor(fake)))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiRejectedError);
    expect((error as Error).message).toBe(
      'secret/kdr-release.web.v1 in namespace ns is not a release record this resource wrote ' +
        '(its name is not kdr-release.api.v1); nothing of it is used: delete it, and ask who can write Secrets in ' +
        'the namespace',
    );
  });

  test('a destination that exists already is written into', async () => {
    const fake = fakeWithController();
    const root = tempDir();
    mkdirSync(join(root, 'staging'));
    writeFileSync(join(root, 'staging', 'left'), 'x');
    const version = { app: 'web', namespace: 'ns', revision: '1', image: imageX, deleted: 'true' };
    const got = await getInto(fake, version, root, 'staging');
    expect(got.files.digest).toBe(digestOf('a'));
  });
});
