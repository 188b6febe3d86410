// Concourse's own habits against the real cluster, through the compiled scripts with the environment Concourse sets
// (issue 24): a rerun's BUILD_NAME `42.1`, two instances of one pipeline running build 5 at once, and promotion to
// production from the staging resource after staging was torn down — put → implicit get → teardown put (no_get) →
// the next job's get → put with `image: <that get's dir>`, each artifact a dir of the build as Concourse lays them out.
// The real Concourse suite runs the same cases from example-pipeline.yml.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { deleteNamespace, kubectlJson, useNamespace } from '../support/cluster.js';
import { readyImage } from '../support/images.js';
import { clusterSource, emptyDir, sourcesDir } from '../support/release.js';
import { runScript, type ScriptResult } from '../support/run-script.js';

/** A short random part, so that namespaces of parallel runs and earlier runs never meet. */
const unique = () => Math.random().toString(36).slice(2, 7);

/** What Concourse sets for a get or put step of build `name` of job `staging` (atc/exec/step_metadata.go). */
const concourseEnv = (name: string, id: string, instanceVars?: object): Record<string, string> => ({
  BUILD_ID: id,
  BUILD_NAME: name,
  BUILD_TEAM_ID: '1',
  BUILD_TEAM_NAME: 'main',
  BUILD_JOB_ID: '12',
  BUILD_JOB_NAME: 'staging',
  BUILD_PIPELINE_ID: '3',
  BUILD_PIPELINE_NAME: 'shop',
  ...(instanceVars ? { BUILD_PIPELINE_INSTANCE_VARS: JSON.stringify(instanceVars) } : {}),
  ATC_EXTERNAL_URL: 'https://ci.example.com',
});

const ok = (result: ScriptResult) => {
  expect(result.code, result.stderr).toBe(0);
  return result.json as { version: Record<string, string>; metadata: { name: string; value: string }[] };
};
const metadataOf = (json: { metadata: { name: string; value: string }[] }) =>
  Object.fromEntries(json.metadata.map((m) => [m.name, m.value]));
const filesOf = (dir: string) =>
  Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
const imageOf = async (namespace: string) =>
  (await kubectlJson(['get', 'deployment', 'web'], { namespace })).spec.template.spec.containers[0].image as string;

describe("Concourse's habits through the compiled scripts", () => {
  test("a rerun (BUILD_NAME 42.1): namespace …-42-1, host web-42-1.…, torn down by the rerun's teardown", async () => {
    const prefix = `kdr-rerun-${unique()}`;
    const namespace = `${prefix}-42-1`;
    const env = concourseEnv('42.1', String(Date.now()));
    const source = clusterSource();
    try {
      const put = ok(
        await runScript(
          'out',
          {
            source,
            params: {
              image_ref: readyImage('1').tagRef,
              namespace: `${prefix}-\${BUILD_NAME}`,
              create_namespace: true,
              host: 'web-${BUILD_NAME}.staging.local',
            },
          },
          { dir: emptyDir(), env },
        ),
      );
      expect(put.version.namespace).toBe(namespace);
      const ingress = await kubectlJson(['get', 'ingress', 'web'], { namespace });
      expect(ingress.spec.rules[0].host).toBe('web-42-1.staging.local');
      expect(ingress.metadata.annotations).toMatchObject({
        'kubernetes-deploy-resource.io/build': '42.1',
        'kubernetes-deploy-resource.io/build-url':
          'https://ci.example.com/teams/main/pipelines/shop/jobs/staging/builds/42.1',
      });
      const del = ok(
        await runScript(
          'out',
          { source, params: { delete: true, delete_namespace: true, namespace: `${prefix}-\${BUILD_NAME}` } },
          { dir: emptyDir(), env },
        ),
      );
      expect(del.version).toMatchObject({ namespace, deleted: 'true' });
    } finally {
      await deleteNamespace(namespace);
    }
  });

  test('two instances (branch a, branch b) run build 5 at once: ${BUILD_ID} keeps them apart', async () => {
    const prefix = `kdr-inst-${unique()}`;
    const id = Date.now();
    const a = concourseEnv('5', String(id), { branch: 'a' });
    const b = concourseEnv('5', String(id + 1), { branch: 'b' });
    const [nsA, nsB] = [`${prefix}-${id}`, `${prefix}-${id + 1}`];
    const source = clusterSource();
    const params = { namespace: `${prefix}-\${BUILD_ID}`, create_namespace: true };
    try {
      const [putA, putB] = await Promise.all([
        runScript(
          'out',
          { source, params: { ...params, image_ref: readyImage('1').tagRef } },
          { dir: emptyDir(), env: a },
        ),
        runScript(
          'out',
          { source, params: { ...params, image_ref: readyImage('2').tagRef } },
          { dir: emptyDir(), env: b },
        ),
      ]);
      expect(ok(putA).version.namespace).toBe(nsA);
      const versionB = ok(putB).version;
      expect(versionB.namespace).toBe(nsB);

      ok(
        await runScript(
          'out',
          { source, params: { delete: true, delete_namespace: true, namespace: params.namespace } },
          { dir: emptyDir(), env: a },
        ),
      );
      expect(await imageOf(nsB)).toBe(readyImage('2').tagRef);

      const got = ok(await runScript('in', { source, version: versionB }, { dir: emptyDir(), env: b }));
      expect(metadataOf(got)).toMatchObject({
        build_instance_vars: '{"branch":"b"}',
        build_name: '5',
        build_id: String(id + 1),
        build_url: 'https://ci.example.com/teams/main/pipelines/shop/jobs/staging/builds/5?vars.branch=%22b%22',
      });
    } finally {
      await Promise.all([deleteNamespace(nsA), deleteNamespace(nsB)]);
    }
  });
});

describe('promotion from the staging resource after its teardown', () => {
  const production = useNamespace('kdr-prod');

  test('staging → teardown → production promoted from the staging resource, from either of its versions', async () => {
    const web = readyImage('1.2');
    const prefix = `kdr-stg-${unique()}`;
    const stagingEnv = concourseEnv('42.1', String(Date.now()));
    const namespace = `${prefix}-${stagingEnv.BUILD_ID}`;
    const staging = clusterSource();
    const perBuild = `${prefix}-\${BUILD_ID}`;
    try {
      // Job staging. put: the sources dir holds the artifact app-image (a registry-image get).
      const deployed = ok(
        await runScript(
          'out',
          { source: staging, params: { image: 'image', namespace: perBuild, create_namespace: true } },
          { dir: sourcesDir(web), env: stagingEnv },
        ),
      );
      expect(deployed.version).toMatchObject({ namespace, revision: '1', image: web.digestRef });
      // The implicit get after the put.
      const implicit = emptyDir();
      ok(await runScript('in', { source: staging, version: deployed.version }, { dir: implicit, env: stagingEnv }));
      expect(filesOf(implicit)).toMatchObject({ digest: web.digest, image: web.digestRef });
      expect(filesOf(implicit)['manifests.yml']).toContain(web.digestRef);
      // ensure: the teardown (no_get: true, so no get follows it).
      const teardown = ok(
        await runScript(
          'out',
          { source: staging, params: { delete: true, delete_namespace: true, namespace: perBuild } },
          { dir: emptyDir(), env: stagingEnv },
        ),
      );
      expect(teardown.version).toEqual({ ...deployed.version, deleted: 'true' });

      // Job production, twice: its get of staging (passed: [staging]) fetched one version or the other.
      const productionEnv = { ...concourseEnv('7', String(Date.now() + 1)), BUILD_JOB_NAME: 'production' };
      for (const version of [teardown.version, deployed.version]) {
        const build = mkdtempSync(join(tmpdir(), 'kdr-build-'));
        const got = ok(
          await runScript('in', { source: staging, version }, { dir: join(build, 'staging'), env: productionEnv }),
        );
        const files = filesOf(join(build, 'staging'));
        expect(files).toMatchObject({ repository: web.repository, digest: web.digest, image: web.digestRef });
        expect(files['manifests.yml']).toBeUndefined();
        expect(files.gone).toBe(metadataOf(got).gone + '\n');
        const put = ok(
          await runScript(
            'out',
            { source: clusterSource({ namespace: production.name }), params: { image: 'staging' } },
            { dir: build, env: productionEnv },
          ),
        );
        expect(put.version).toMatchObject({ namespace: production.name, image: web.digestRef });
        expect(await imageOf(production.name)).toBe(web.digestRef);
      }
    } finally {
      await deleteNamespace(namespace);
    }
  });
});
