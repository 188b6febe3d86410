// Sweep of leaked per-build releases against the real cluster, through the compiled `out`. Ages are faked through the
// records' last-put stamps (the put's own clock wrote them); everything else is real: namespaces, labels, scope stamps,
// teardown. A sweep's scope (issue 23, item 1): its prefix, the resource that created a namespace, the last put.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { lastPutAnnotation } from '../../src/engine/records.js';
import type { KubeObject } from '../../src/kube/object.js';
import {
  createNamespace,
  deleteNamespace,
  kubectl,
  kubectlJson,
  rbacToken,
  uniqueNamespaceName,
} from '../support/cluster.js';
import { clusterSource, emptyDir } from '../support/release.js';
import { readyImage } from '../support/images.js';
import { readmeRole, serviceAccountToken } from '../support/service-account.js';
import { metadataOf, runScript } from '../support/run-script.js';

const hour = 3_600_000;

/** Moves every record of `app` in `namespace` back in time, as if its last put ran `ageMs` ago. */
async function age(namespace: string, app: string, ageMs: number): Promise<void> {
  const list = await kubectlJson<{ items: KubeObject[] }>(
    ['get', 'secrets', '-l', `kubernetes-deploy-resource.io/release=${app}`],
    { namespace },
  );
  const when = new Date(Date.now() - ageMs).toISOString();
  for (const secret of list.items)
    await kubectl(['annotate', '--overwrite', 'secret', secret.metadata.name, `${lastPutAnnotation}=${when}`], {
      namespace,
    });
}

/** The staging resource of these tests: one source (its namespace `staging`), one pipeline. */
const pipelineEnv = { BUILD_TEAM_NAME: 'main', BUILD_PIPELINE_NAME: 'web' };

const exists = async (namespace: string) =>
  (await kubectl(['get', 'namespace', namespace], { allowFailure: true })).code === 0 &&
  (await kubectlJson(['get', 'namespace', namespace])).status.phase !== 'Terminating';

describe('sweep', () => {
  const app = `sw${randomBytes(3).toString('hex')}`;
  const other = `${app}b`;
  // Every namespace of the first test starts with its own prefix, except `outside` (the production of the issue).
  const prefix = `kdr-sw${randomBytes(3).toString('hex')}-`;
  const names = {
    old: `${prefix}old`,
    older: `${prefix}older`,
    fresh: `${prefix}fresh`,
    reput: `${prefix}reput`,
    foreign: `${prefix}foreign`,
    shared: `${prefix}shared`,
    otherPipeline: `${prefix}other-pipeline`,
    outside: uniqueNamespaceName('kdr-sweep-production'),
  };
  afterAll(async () => {
    for (const ns of Object.values(names)) await deleteNamespace(ns, 0);
  });

  test('tears down exactly the old releases it created under its prefix; a re-run sweeps nothing', async () => {
    const source = clusterSource({ app, namespace: 'staging' });
    const put = (namespace: string, params: Record<string, unknown>, forApp = app, env = pipelineEnv) =>
      runScript(
        'out',
        {
          source: { ...source, app: forApp },
          params: { namespace, image_ref: readyImage('1').tagRef, ...params },
        },
        { dir: emptyDir(), env },
      );
    for (const ns of [names.old, names.older, names.fresh, names.reput, names.shared, names.outside])
      expect((await put(ns, { create_namespace: true })).code).toBe(0);
    // The same app, deployed by another pipeline into a namespace under the prefix: another resource's.
    const otherPut = await put(names.otherPipeline, { create_namespace: true }, app, {
      ...pipelineEnv,
      BUILD_PIPELINE_NAME: 'another-pipeline',
    });
    expect(otherPut.code, otherPut.stderr).toBe(0);
    await createNamespace(names.foreign);
    expect((await put(names.foreign, {})).code).toBe(0);
    expect((await put(names.shared, {}, other)).code).toBe(0);
    await age(names.old, app, 30 * hour);
    await age(names.older, app, 48 * hour);
    await age(names.fresh, app, 1 * hour);
    await age(names.foreign, app, 72 * hour);
    await age(names.shared, app, 72 * hour);
    await age(names.otherPipeline, app, 72 * hour);
    await age(names.outside, app, 72 * hour);
    // Recorded 30 h ago, but put again just now with nothing changed (no new record): a release in use.
    await age(names.reput, app, 30 * hour);
    const reput = await put(names.reput, {});
    expect(reput.code, reput.stderr).toBe(0);
    expect(metadataOf(reput).revision).toBe('1');

    const sweep = (params: Record<string, unknown>) =>
      runScript('out', { source, params }, { dir: emptyDir(), env: pipelineEnv });
    const scope = (swept: Record<string, unknown>) => ({ namespace_prefix: prefix, ...swept });

    // A dry run lists what would go and changes nothing; keep spares the newest.
    const dry = await sweep({ sweep: scope({ older_than: '24h' }), dry_run: true });
    expect(dry.code, dry.stderr).toBe(0);
    expect(metadataOf(dry).swept!.split(', ').sort()).toEqual([names.old, names.older].sort());
    expect(dry.stderr).toContain(`sweep: would tear down release ${app} and namespace ${names.older}`);
    const keepTwo = await sweep({ sweep: scope({ older_than: '10m', keep: 3 }), dry_run: true });
    expect(metadataOf(keepTwo).swept).toBe(names.older);
    expect(metadataOf(keepTwo).kept!.split(', ').sort()).toEqual([names.fresh, names.old, names.reput].sort());
    for (const ns of Object.values(names)) expect(await exists(ns), ns).toBe(true);

    const real = await sweep({ sweep: scope({ older_than: '24h' }), timeout: '3m' });
    expect(real.code, real.stderr).toBe(0);
    expect((real.json as { version: unknown }).version).toEqual({
      app,
      namespace: '*',
      revision: '0',
      image: '',
      deleted: 'true',
    });
    const metadata = metadataOf(real);
    expect(metadata.swept!.split(', ').sort()).toEqual([names.old, names.older].sort());
    expect(metadata.kept!.split(', ').sort()).toEqual([names.fresh, names.reput].sort());
    expect(metadata.left_alone).toContain(`${names.foreign} (not created by this resource for ${app})`);
    expect(metadata.left_alone).toContain(`${names.shared} (shared with app ${other})`);
    expect(metadata.left_alone).toContain(
      `${names.otherPipeline} (created for ${app} by another resource (another pipeline, team, source or cluster))`,
    );
    expect(metadata.left_alone).not.toContain(names.outside);
    expect(real.stderr).toContain(`namespace ${names.old} deleted`);
    expect(await exists(names.old)).toBe(false);
    expect(await exists(names.older)).toBe(false);
    for (const ns of [names.fresh, names.reput, names.foreign, names.shared, names.otherPipeline, names.outside]) {
      expect(await exists(ns), ns).toBe(true);
      expect((await kubectl(['get', 'deployment', app], { namespace: ns, allowFailure: true })).code, ns).toBe(0);
    }

    // The implicit get after the sweep, and a second sweep that finds nothing to do.
    expect(
      (await runScript('in', { source, version: (real.json as { version: unknown }).version }, { dir: emptyDir() }))
        .code,
    ).toBe(0);
    const again = await sweep({ sweep: scope({ older_than: '24h' }) });
    expect(again.code, again.stderr).toBe(0);
    expect(metadataOf(again).swept).toBe('nothing');
    // Ten puts, a sweep that deletes two namespaces and waits for them: minutes on a busy machine.
  }, 600_000);

  test(
    'a ServiceAccount with exactly the documented rights sweeps; ' + 'a namespace it may not read is reported',
    async () => {
      const sweeper = `${app}-rbac`;
      const rbacPrefix = `kdr-swr${randomBytes(3).toString('hex')}-`;
      const rbac = {
        home: uniqueNamespaceName('kdr-sweep-home'),
        granted: `${rbacPrefix}granted`,
        closed: `${rbacPrefix}closed`,
      };
      const clusterRole = `kdr-sweeper-${sweeper}`;
      try {
        for (const ns of [rbac.granted, rbac.closed]) {
          const put = await runScript(
            'out',
            {
              source: clusterSource({ app: sweeper }),
              params: { namespace: ns, image_ref: readyImage('1').tagRef, create_namespace: true },
            },
            { dir: emptyDir() },
          );
          expect(put.code, put.stderr).toBe(0);
          await age(ns, sweeper, 48 * hour);
        }
        await createNamespace(rbac.home);
        const token = await serviceAccountToken(rbac.home, 'sweeper');
        // The README: cluster-wide list, get and delete on namespaces, plus the Role in each namespace to sweep.
        await kubectl(['create', 'clusterrole', clusterRole, '--verb=list,get,delete', '--resource=namespaces']);
        await kubectl([
          'create',
          'clusterrolebinding',
          clusterRole,
          `--clusterrole=${clusterRole}`,
          `--serviceaccount=${rbac.home}:sweeper`,
        ]);
        await kubectl(['apply', '-f', '-'], { input: readmeRole(rbac.granted) });
        await kubectl(
          [
            'create',
            'rolebinding',
            'sweeper',
            '--role=kubernetes-deploy-resource',
            `--serviceaccount=${rbac.home}:sweeper`,
          ],
          { namespace: rbac.granted },
        );

        const { cluster_url, cluster_ca } = clusterSource() as Record<string, string>;
        const result = await runScript(
          'out',
          {
            source: { cluster_url, cluster_ca, token, app: sweeper },
            params: { sweep: { older_than: '24h', namespace_prefix: rbacPrefix }, timeout: '5m' },
          },
          { dir: emptyDir() },
        );
        expect(result.code, result.stderr).toBe(0);
        expect(metadataOf(result).swept).toBe(rbac.granted);
        expect(metadataOf(result).left_alone).toBe(`${rbac.closed} (may not list secrets)`);
        expect(await exists(rbac.granted)).toBe(false);
        expect(await exists(rbac.closed)).toBe(true);
      } finally {
        await kubectl(['delete', 'clusterrolebinding,clusterrole', clusterRole, '--ignore-not-found'], {
          allowFailure: true,
        });
        for (const ns of Object.values(rbac)) await deleteNamespace(ns, 0);
      }
    },
    600_000,
  );

  test('without the right to list namespaces nothing can be swept: exit 4 naming it', async () => {
    const token = rbacToken();
    expect(token, 'the local cluster has an rbac-test token').toBeDefined();
    const { cluster_url, cluster_ca } = clusterSource() as Record<string, string>;
    const result = await runScript(
      'out',
      {
        source: { cluster_url, cluster_ca, token, app },
        params: { sweep: { older_than: '1h', namespace_prefix: 'kdr-' } },
      },
      { dir: emptyDir() },
    );
    expect(result.code, result.stderr).toBe(4);
    expect(result.stderr).toContain(
      'error: sweep: the credentials may not list namespaces (needs cluster-wide list on namespaces)',
    );
  });
});
