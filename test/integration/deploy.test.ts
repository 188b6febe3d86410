// The deploy core against the real cluster, through the compiled scripts (as Concourse runs them).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { deleteNamespace, kubectl, kubectlJson, uniqueNamespaceName, useNamespace } from '../support/cluster.js';
import { crashingImage, hangingImage, readyImage, unpullableImage, type ReadyTag } from '../support/images.js';
import { clusterSource, emptyDir, sourcesDir, tagOnly } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';

const postgres = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'postgres.yml'), 'utf8');
const ownLabels = 'app.kubernetes.io/instance=web,app.kubernetes.io/managed-by=kubernetes-deploy-resource';

describe('put, get, check, delete', () => {
  const ns = useNamespace('kdr-deploy');

  test('a put deploys a digest-pinned release that becomes Available; the same put again changes nothing', async () => {
    const web = readyImage('1.0.0');
    const dir = sourcesDir(web);
    const request = {
      source: clusterSource({ namespace: ns.name }),
      params: {
        image: 'image',
        replicas: 2,
        host: 'web.staging.local',
        ingress_class: 'traefik',
        env: { GREETING: 'hello' },
      },
    };
    const first = await runScript('out', request, { dir, env: { BUILD_NAME: '7', BUILD_PIPELINE_NAME: 'web' } });
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toMatchObject({
      version: { app: 'web', namespace: ns.name, revision: '1', image: web.digestRef },
    });
    const metadata = Object.fromEntries(
      (first.json as { metadata: { name: string; value: string }[] }).metadata.map((m) => [m.name, m.value]),
    );
    expect(metadata).toMatchObject({
      namespace: ns.name,
      app: 'web',
      revision: '1',
      objects: 'deployment/web, service/web, ingress/web',
      url: 'http://web.staging.local/',
    });
    expect(metadata.rollout_duration).toMatch(/^[0-9.]+(ms|s)$/);
    expect(first.stderr).toContain('deployment/web created');
    expect(first.stderr).toMatch(
      new RegExp(
        String.raw`deployment/web: \d of 2 (updated replicas available|new replicas updated)|` +
          String.raw`deployment/web: successfully rolled out`,
      ),
    );

    const deployment = await kubectlJson(['get', 'deployment', 'web', '--show-managed-fields'], { namespace: ns.name });
    expect(deployment.spec.template.spec.containers[0].image).toBe(web.digestRef);
    expect(deployment.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'web',
      'app.kubernetes.io/instance': 'web',
      'app.kubernetes.io/version': '1.0.0',
      'app.kubernetes.io/managed-by': 'kubernetes-deploy-resource',
    });
    expect(deployment.metadata.annotations).toMatchObject({
      'kubernetes-deploy-resource.io/build': '7',
      'kubernetes-deploy-resource.io/pipeline': 'web',
    });
    expect(deployment.status.availableReplicas).toBe(2);
    expect(deployment.metadata.managedFields.map((f: { manager: string }) => f.manager)).toContain(
      'kubernetes-deploy-resource',
    );
    const ingress = await kubectlJson(['get', 'ingress', 'web'], { namespace: ns.name });
    expect(ingress.spec).toMatchObject({ ingressClassName: 'traefik', rules: [{ host: 'web.staging.local' }] });

    const second = await runScript('out', request, { dir, env: { BUILD_NAME: '7', BUILD_PIPELINE_NAME: 'web' } });
    expect(second.code, second.stderr).toBe(0);
    expect((second.json as { version: unknown }).version).toEqual((first.json as { version: unknown }).version);
    expect(second.stderr).toContain('deployment/web unchanged');
    expect(second.stderr).toContain('service/web unchanged');
    const after = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
    expect(after.metadata.resourceVersion).toBe(deployment.metadata.resourceVersion);
  });

  test(
    'check lists revisions in order; in writes manifests.yml that kubectl re-applies and deletes ' + 'elsewhere',
    async () => {
      const source = clusterSource({ namespace: ns.name });
      const put = (tag: ReadyTag) =>
        runScript('out', { source, params: { image: 'image' } }, { dir: sourcesDir(readyImage(tag)) });
      for (const tag of ['1.0', '1.1', '1.2'] as const) expect((await put(tag)).code).toBe(0);

      const newest = await runScript('check', { source });
      expect(newest.code, newest.stderr).toBe(0);
      expect(newest.json).toEqual([
        { app: 'web', namespace: ns.name, revision: '3', image: readyImage('1.2').digestRef },
      ]);
      const fromFirst = await runScript('check', {
        source,
        version: { app: 'web', namespace: ns.name, revision: '2', image: '' },
      });
      expect((fromFirst.json as { revision: string }[]).map((v) => v.revision)).toEqual(['2', '3']);
      const gone = await runScript('check', {
        source,
        version: { app: 'web', namespace: ns.name, revision: '99', image: '' },
      });
      expect((gone.json as { revision: string }[]).map((v) => v.revision)).toEqual(['3']);

      const dest = emptyDir();
      const version = (newest.json as Record<string, string>[])[0]!;
      const get = await runScript('in', { source, version }, { dir: dest });
      expect(get.code, get.stderr).toBe(0);
      expect(readFileSync(join(dest, 'digest'), 'utf8')).toBe(readyImage('1.2').digest);
      expect(readFileSync(join(dest, 'repository'), 'utf8')).toBe(readyImage('1.2').repository);
      expect(readFileSync(join(dest, 'tag'), 'utf8')).toBe('1.2');
      expect(readFileSync(join(dest, 'revision'), 'utf8')).toBe('3');
      expect(readFileSync(join(dest, 'namespace'), 'utf8')).toBe(ns.name);
      const manifests = readFileSync(join(dest, 'manifests.yml'), 'utf8');
      expect(manifests).not.toMatch(/resourceVersion|managedFields|creationTimestamp|uid:|status:|namespace:/);
      expect(JSON.parse(readFileSync(join(dest, 'metadata.json'), 'utf8'))).toMatchObject({ version, revision: 3 });

      // The same get again writes the same bytes.
      const again = emptyDir();
      await runScript('in', { source, version }, { dir: again });
      expect(readFileSync(join(again, 'manifests.yml'), 'utf8')).toBe(manifests);

      const elsewhere = uniqueNamespaceName('kdr-recreate');
      await kubectl(['create', 'namespace', elsewhere]);
      try {
        await kubectl(['apply', '-n', elsewhere, '-f', join(dest, 'manifests.yml')]);
        await kubectl(['rollout', 'status', 'deployment/web', '-n', elsewhere, '--timeout=60s']);
        const recreated = await kubectlJson(['get', 'deployment', 'web'], { namespace: elsewhere });
        expect(recreated.spec.template.spec.containers[0].image).toBe(readyImage('1.2').digestRef);
        await kubectl(['delete', '-n', elsewhere, '-f', join(dest, 'manifests.yml'), '--wait=true']);
        const left = await kubectlJson(['get', 'deployments,services', '-l', ownLabels], { namespace: elsewhere });
        expect(left.items).toEqual([]);
      } finally {
        await deleteNamespace(elsewhere);
      }

      // history: records beyond history_limit are pruned; in for a pruned revision says so and writes no manifests.
      const limited = clusterSource({ namespace: ns.name, history_limit: 2 });
      expect(
        (
          await runScript(
            'out',
            { source: limited, params: { image: 'image' } },
            { dir: sourcesDir(tagOnly(readyImage('1.3'))) },
          )
        ).code,
      ).toBe(0);
      const prunedDir = emptyDir();
      const pruned = await runScript(
        'in',
        { source, version: { app: 'web', namespace: ns.name, revision: '1', image: '' } },
        { dir: prunedDir },
      );
      expect(pruned.code, pruned.stderr).toBe(0);
      expect(readFileSync(join(prunedDir, 'gone'), 'utf8')).toBe(
        `revision 1 was pruned from the history of web in namespace ${ns.name} (history_limit; the oldest left is 3)\n`,
      );
      const afterPrune = await runScript('check', {
        source,
        version: { app: 'web', namespace: ns.name, revision: '3', image: '' },
      });
      expect((afterPrune.json as { revision: string }[]).map((v) => v.revision)).toEqual(['3', '4']);
    },
  );

  test('mode create refuses a release that already exists, naming the objects, and changes nothing', async () => {
    const dir = sourcesDir(tagOnly(readyImage('1')));
    const request = { source: clusterSource({ namespace: ns.name }), params: { image: 'image', mode: 'create' } };
    const first = await runScript('out', request, { dir });
    expect(first.code, first.stderr).toBe(0);
    const before = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
    const second = await runScript('out', { ...request, params: { ...request.params, replicas: 3 } }, { dir });
    expect(second.code).toBe(4);
    expect(lines(second.stderr).at(-1)).toBe(
      `error: mode create: deployment/web, service/web already exist in namespace ${ns.name}; nothing was created ` +
        '(use mode: apply to update, or delete the release first)',
    );
    const after = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  test(
    'extra manifests (a database) go first and are torn down with the release; ' + 'a foreign object survives',
    async () => {
      const dir = sourcesDir(tagOnly(readyImage('2')), { 'deps/postgres.yml': postgres });
      const source = clusterSource({ namespace: ns.name });
      await kubectl(['create', 'deployment', 'foreign', `--image=${readyImage('1').tagRef}`], { namespace: ns.name });
      const put = await runScript('out', { source, params: { image: 'image', manifests: ['deps/*.yml'] } }, { dir });
      expect(put.code, put.stderr).toBe(0);
      const order = lines(put.stderr).filter((l) => / (created|configured|unchanged)$/.test(l));
      // Dependencies in kind order first; the app's own objects after them (applied together, so in any order).
      expect(order.slice(3).sort()).toEqual(['deployment/web created', 'service/web created']);
      expect(order.slice(0, 3)).toEqual([
        'secret/db-credentials created',
        'service/db created',
        'deployment/db created',
      ]);
      const db = await kubectlJson(['get', 'deployment', 'db'], { namespace: ns.name });
      expect(db.status.availableReplicas).toBe(1);
      expect(db.spec.template.metadata.labels).toMatchObject({ 'app.kubernetes.io/instance': 'web' });

      const del = await runScript('out', { source, params: { delete: true } }, { dir });
      expect(del.code, del.stderr).toBe(0);
      expect(del.json).toMatchObject({ version: { app: 'web', namespace: ns.name, revision: '1', deleted: 'true' } });
      // A line per object deleted (and "waiting for N objects" lines while they go, when they take a moment).
      for (const ref of ['secret/db-credentials', 'service/db', 'deployment/db', 'deployment/web', 'service/web'])
        expect(lines(del.stderr)).toContain(`${ref} deleted`);
      const left = await kubectlJson(['get', 'deployments,services,secrets,pods,ingresses', '-l', ownLabels], {
        namespace: ns.name,
      });
      expect(left.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual([]);
      const foreign = await kubectlJson(['get', 'deployment', 'foreign'], { namespace: ns.name });
      expect(foreign.metadata.name).toBe('foreign');

      const again = await runScript('out', { source, params: { delete: true } }, { dir });
      expect(again.code, again.stderr).toBe(0);
      expect(again.json).toMatchObject({ version: { revision: '0', deleted: 'true' } });
      const implicitGet = await runScript(
        'in',
        { source, version: (again.json as { version: unknown }).version },
        { dir: emptyDir() },
      );
      expect(implicitGet.code).toBe(0);
    },
  );

  test('an object with a release name but not ours is never modified or deleted', async () => {
    await kubectl(['create', 'service', 'clusterip', 'web', '--tcp=80:8080'], { namespace: ns.name });
    const before = await kubectlJson(['get', 'service', 'web'], { namespace: ns.name });
    const source = clusterSource({ namespace: ns.name });
    const put = await runScript('out', { source, params: { image_ref: readyImage('3').tagRef } }, { dir: emptyDir() });
    expect(put.code).toBe(4);
    expect(lines(put.stderr).at(-1)).toContain(
      `error: service/web already exists in namespace ${ns.name} and is not managed by this release`,
    );
    const create = await runScript(
      'out',
      { source, params: { image_ref: readyImage('3').tagRef, mode: 'create' } },
      { dir: emptyDir() },
    );
    expect(create.code).toBe(4);
    expect(lines(create.stderr).at(-1)).toContain(
      `error: service/web already exists in namespace ${ns.name} and is not managed by this release`,
    );
    const del = await runScript('out', { source, params: { delete: true } }, { dir: emptyDir() });
    expect(del.code, del.stderr).toBe(0);
    expect(del.stderr).toContain(
      `warning: service/web in namespace ${ns.name} is not managed by release web: left alone`,
    );
    const after = await kubectlJson(['get', 'service', 'web'], { namespace: ns.name });
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect((await kubectl(['get', 'deployment', 'web'], { namespace: ns.name, allowFailure: true })).code).not.toBe(0);
  });
});

describe('failing rollouts fail fast with the cause', () => {
  const ns = useNamespace('kdr-fail');

  test('an unpullable image fails with ImagePullBackOff and the Pod name, well before the timeout', async () => {
    const put = await runScript(
      'out',
      { source: clusterSource({ namespace: ns.name }), params: { ...unpullableImage().params, timeout: '2m' } },
      { dir: emptyDir() },
    );
    expect(put.code).toBe(5);
    expect(put.stdout).toBe('');
    const last = lines(put.stderr).at(-1)!;
    expect(last).toMatch(
      /^error: deployment\/web failed: pod\/web-[a-z0-9]+-[a-z0-9]+ container web: (ErrImagePull|ImagePullBackOff)/,
    );
    expect(last).toContain('recent events:');
    expect(put.durationMs).toBeLessThan(60_000);
    // The failed revision is not listed by check.
    const check = await runScript('check', { source: clusterSource({ namespace: ns.name }) });
    expect(check.json).toEqual([]);
  });

  test('a crashing image fails with CrashLoopBackOff', async () => {
    const put = await runScript(
      'out',
      { source: clusterSource({ namespace: ns.name }), params: { ...crashingImage().params, timeout: '2m' } },
      { dir: emptyDir() },
    );
    expect(put.code).toBe(5);
    expect(lines(put.stderr).at(-1)).toMatch(
      /^error: deployment\/web failed: pod\/web-\S+ container web: CrashLoopBackOff \(restarted \d+ times\)/,
    );
  });

  test('a Pod that never becomes ready times out with the timed-out exit code', async () => {
    const put = await runScript(
      'out',
      { source: clusterSource({ namespace: ns.name }), params: { ...hangingImage().params, timeout: '12s' } },
      { dir: emptyDir() },
    );
    expect(put.code).toBe(6);
    expect(lines(put.stderr).at(-1)).toBe(
      'error: timed out after 12s waiting for the rollout: deployment/web: 0 of 1 updated replicas available',
    );
  });
});

describe('namespaces', () => {
  test('a per-build namespace from ${BUILD_NAME}, created on demand and deleted with delete_namespace', async () => {
    const build = `b${Date.now().toString(36)}`;
    const namespace = `kdr-staging-${build}`;
    const env = { BUILD_NAME: build, BUILD_JOB_NAME: 'staging' };
    const source = clusterSource();
    try {
      const missing = await runScript(
        'out',
        { source, params: { image_ref: readyImage('1').tagRef, namespace: 'kdr-staging-${BUILD_NAME}' } },
        { dir: emptyDir(), env },
      );
      expect(missing.code).toBe(4);
      expect(lines(missing.stderr).at(-1)).toBe(
        `error: namespace ${namespace} does not exist (set params.create_namespace: true to create it)`,
      );

      const put = await runScript(
        'out',
        {
          source,
          params: {
            image_ref: readyImage('1').tagRef,
            namespace: 'kdr-staging-${BUILD_NAME}',
            create_namespace: true,
            host: 'web-${BUILD_NAME}.staging.local',
          },
        },
        { dir: emptyDir(), env },
      );
      expect(put.code, put.stderr).toBe(0);
      expect(put.json).toMatchObject({ version: { namespace } });
      const created = await kubectlJson(['get', 'namespace', namespace]);
      expect(created.metadata.labels).toMatchObject({
        'app.kubernetes.io/managed-by': 'kubernetes-deploy-resource',
        'kubernetes-deploy-resource.io/created-for': 'web',
      });
      const ingress = await kubectlJson(['get', 'ingress', 'web'], { namespace });
      expect(ingress.spec.rules[0].host).toBe(`web-${build}.staging.local`);

      const del = await runScript(
        'out',
        { source, params: { delete: true, delete_namespace: true, namespace: 'kdr-staging-${BUILD_NAME}' } },
        { dir: emptyDir(), env },
      );
      expect(del.code, del.stderr).toBe(0);
      expect(del.stderr).toContain(`namespace ${namespace} deleted`);
      expect((await kubectl(['get', 'namespace', namespace], { allowFailure: true })).code).not.toBe(0);
    } finally {
      await deleteNamespace(namespace);
    }
  });

  test('delete_namespace leaves a namespace it did not create', async () => {
    const namespace = uniqueNamespaceName('kdr-keep');
    await kubectl(['create', 'namespace', namespace]);
    try {
      const source = clusterSource({ namespace });
      expect(
        (await runScript('out', { source, params: { image_ref: readyImage('1').tagRef } }, { dir: emptyDir() })).code,
      ).toBe(0);
      const del = await runScript(
        'out',
        { source, params: { delete: true, delete_namespace: true } },
        { dir: emptyDir() },
      );
      expect(del.code, del.stderr).toBe(0);
      expect(del.stderr).toContain(
        `warning: namespace ${namespace} was not created by this resource for web: left in place`,
      );
      expect((await kubectl(['get', 'namespace', namespace])).code).toBe(0);
    } finally {
      await deleteNamespace(namespace);
    }
  });
});

describe('promotion', () => {
  test('the get of a staging release feeds a put to production with the same digest', async () => {
    const staging = uniqueNamespaceName('kdr-stg');
    const production = uniqueNamespaceName('kdr-prod');
    try {
      const web = readyImage('9');
      const source = clusterSource({ namespace: staging });
      const put = await runScript(
        'out',
        { source, params: { image: 'image', create_namespace: true } },
        { dir: sourcesDir(web) },
      );
      expect(put.code, put.stderr).toBe(0);
      // Concourse's implicit get after the put writes the release into a dir named after the resource.
      const sources = emptyDir();
      const get = await runScript(
        'in',
        { source, version: (put.json as { version: unknown }).version },
        { dir: join(sources, 'staging-release') },
      );
      expect(get.code, get.stderr).toBe(0);
      const prod = await runScript(
        'out',
        {
          source: clusterSource({ namespace: production }),
          params: { image: 'staging-release', create_namespace: true },
        },
        { dir: sources },
      );
      expect(prod.code, prod.stderr).toBe(0);
      const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: production });
      expect(deployment.spec.template.spec.containers[0].image).toBe(web.digestRef);
    } finally {
      await Promise.all([deleteNamespace(staging), deleteNamespace(production)]);
    }
  });
});
