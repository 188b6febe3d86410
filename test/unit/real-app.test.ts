// What a real app needs of the generated release (issue 26): the put's image in extra manifests, pull secrets and a
// ServiceAccount, env from Secret/ConfigMap keys with a config hash on the Pod template, patches, replicas: auto.
// test/integration/real-app.test.ts proves the same against the real cluster through the compiled scripts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { out as putPlan } from '../../src/commands/out.js';
import type { CommandDeps } from '../../src/commands/context.js';
import { memoryLogger } from '../../src/log.js';
import { deployRelease } from '../../src/engine/deploy.js';
import { replicasHandoverManager, replicasToHandOver } from '../../src/engine/replicas.js';
import { product } from '../../src/kube/labels.js';
import type { KubeObject } from '../../src/kube/object.js';
import { parseExtraManifests } from '../../src/manifests/extra.js';
import { imagePlaceholder } from '../../src/manifests/image.js';
import { parsePatches, strategicMerge } from '../../src/manifests/patches.js';
import { configHashAnnotation, renderManifests, type ReleaseSpec } from '../../src/manifests/render.js';
import { toYaml } from '../../src/manifests/yaml.js';
import { planPut, type DeployPlan } from '../../src/request/plan.js';
import { deployInput, fakeWithController } from '../support/fake-release.js';
import { expectGolden, releaseSpec } from '../support/golden.js';

/** As the out entrypoint runs it: the request planned (planPut), then the command; a refused request rejects. */
const out = async (request: unknown, dir: string, deps: CommandDeps) => putPlan(planPut(request, deps.env), dir, deps);

const digest = 'sha256:' + 'cd34'.repeat(16);
const imageRef = `registry.local/team/web@${digest}`;
const base = releaseSpec({
  namespace: 'prod',
  image: { repository: 'registry.local/team/web', tag: '1.5.0', digest },
});

const extras = (yaml: string) => parseExtraManifests([{ path: 'extra.yml', content: yaml }], 'prod');
const patches = (yaml: string) => parsePatches([{ path: 'patch.yml', content: yaml }], 'web');
const byRef = (objects: KubeObject[], ref: string) => objects.find((o) => `${o.kind}/${o.metadata.name}` === ref)!;
const podSpec = (o: KubeObject) => (o.spec as any).template.spec;

const appConfig = `
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {LOG_LEVEL: info}
---
apiVersion: v1
kind: Secret
metadata: {name: db-credentials}
stringData: {password: canary-pw-0c1e}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
data: {x: y}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {kubernetes-deploy-resource.io/phase: before}
spec:
  template:
    spec:
      restartPolicy: Never
      initContainers: [{name: wait, image: busybox:1}]
      containers: [{name: migrate, image: ${imagePlaceholder}, args: [migrate]}]
`;

const probePatch = `
kind: Deployment
spec:
  template:
    metadata:
      annotations: {prometheus.io/scrape: "true"}
    spec:
      nodeSelector: {pool: web}
      containers:
        - name: web
          livenessProbe: {httpGet: {path: /livez, port: http}}
          volumeMounts: [{name: settings, mountPath: /etc/web}]
        - name: log-shipper
          image: ${imagePlaceholder}
          args: [ship-logs]
      volumes:
        - name: settings
          configMap: {name: web-config}
---
kind: Service
spec:
  type: NodePort
`;

describe('golden: a real app', () => {
  test('pull secrets, ServiceAccount, env from keys, env_from, patches, replicas auto, config hash, image', () => {
    const objects = renderManifests({
      ...base,
      replicas: 'auto',
      env: {
        LOG_LEVEL: { configMap: 'web-config', key: 'LOG_LEVEL' },
        DB_PASSWORD: { secret: 'db-credentials', key: 'password' },
        FEATURE: 'on',
      },
      envFrom: [{ configMap: 'web-flags', prefix: 'FLAG_', optional: true }],
      imagePullSecrets: ['registry-pull'],
      serviceAccount: 'web',
      extraObjects: extras(appConfig),
      patches: patches(probePatch),
    });
    expectGolden('real-app.yml', toYaml(objects));
  });
});

describe("the put's image in extra manifests", () => {
  test('a container whose image is the placeholder runs the put’s image; nothing else is replaced', () => {
    const objects = renderManifests({
      ...base,
      extraObjects: extras(`
apiVersion: v1
kind: ConfigMap
metadata: {name: notes}
data: {text: "${imagePlaceholder}", image: ${imagePlaceholder}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: a, image: ${imagePlaceholder}}, {name: b, image: "x/${imagePlaceholder}"}]
---${appConfig}`),
    });
    const cron = (byRef(objects, 'CronJob/nightly').spec as any).jobTemplate.spec.template.spec;
    expect(cron.containers.map((c: any) => c.image)).toEqual([imageRef, `x/${imagePlaceholder}`]);
    const job = podSpec(byRef(objects, 'Job/migrate'));
    expect(job.containers[0].image).toBe(imageRef);
    expect(job.initContainers[0].image).toBe('busybox:1');
    expect((byRef(objects, 'ConfigMap/notes') as any).data).toEqual({
      text: imagePlaceholder,
      image: imagePlaceholder,
    });
  });

  test('a tag-only image fills in as repository:tag', () => {
    const objects = renderManifests({
      ...base,
      image: { repository: 'registry.local/team/web', tag: 'main' },
      extraObjects: extras(appConfig),
    });
    expect(podSpec(byRef(objects, 'Job/migrate')).containers[0].image).toBe('registry.local/team/web:main');
  });
});

describe('config hash on the Pod template', () => {
  const render = (yaml: string, spec: Partial<ReleaseSpec> = {}) =>
    byRef(
      renderManifests({
        ...base,
        env: { LOG_LEVEL: { configMap: 'web-config', key: 'LOG_LEVEL' } },
        extraObjects: extras(yaml),
        ...spec,
      }),
      'Deployment/web',
    );
  const hashOf = (o: KubeObject) => (o.spec as any).template.metadata.annotations?.[configHashAnnotation];

  test('changes with a referenced ConfigMap or Secret, not with an unreferenced one', () => {
    const first = hashOf(render(appConfig));
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(hashOf(render(appConfig.replace('LOG_LEVEL: info', 'LOG_LEVEL: debug')))).not.toBe(first);
    expect(hashOf(render(appConfig.replace('x: y', 'x: z')))).toBe(first);
    // The Secret counts once the app reads it (here through env_from).
    const withSecret = (yaml: string) => hashOf(render(yaml, { envFrom: [{ secret: 'db-credentials' }] }));
    expect(withSecret(appConfig.replace('canary-pw-0c1e', 'canary-pw-ffff'))).not.toBe(withSecret(appConfig));
  });

  test('a volume a patch adds counts too; no annotation when the app reads none of the release’s own', () => {
    const volumePatch = patches(
      'kind: Deployment\nspec: {template: {spec: {volumes: [{name: s, secret: {secretName: db-credentials}}]}}}',
    );
    const patched = (yaml: string) => hashOf(render(yaml, { env: {}, patches: volumePatch }));
    expect(patched(appConfig.replace('canary-pw-0c1e', 'other'))).not.toBe(patched(appConfig));
    expect(hashOf(render(appConfig, { env: { A: 'b' } }))).toBeUndefined();
    // A Secret of the namespace that is not in the release (a pull secret made by others) is not read by the put.
    expect(hashOf(render(appConfig, { env: { A: { secret: 'elsewhere', key: 'k' } } }))).toBeUndefined();
  });

  test('the hash never shows a value', () => {
    expect(toYaml(renderManifests({ ...base, extraObjects: extras(appConfig) })).match(/canary-pw/g)).toHaveLength(1);
  });
});

describe('patches', () => {
  const patched = (yaml: string, spec: Partial<ReleaseSpec> = {}) =>
    renderManifests({ ...base, env: { A: '1', B: '2' }, args: ['--x'], patches: patches(yaml), ...spec });

  test('strategic merge: containers and env by name, null deletes, $patch: delete, other lists replaced', () => {
    const objects = patched(`
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: web
          args: [--y]
          resources: null
          env: [{name: A, $patch: delete}, {name: C, value: "3"}]
`);
    const container = podSpec(byRef(objects, 'Deployment/web')).containers[0];
    expect(container.args).toEqual(['--y']);
    expect(container.env).toEqual([
      { name: 'B', value: '2' },
      { name: 'C', value: '3' },
    ]);
    expect(container.image).toBe(imageRef);
  });

  test('Service ports merge by port and get their protocol', () => {
    const service = byRef(
      patched('kind: Service\nspec: {ports: [{port: 80, nodePort: 30080}, {name: admin, port: 9000}]}'),
      'Service/web',
    );
    expect((service.spec as any).ports).toEqual([
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', nodePort: 30080 },
      { name: 'admin', port: 9000, protocol: 'TCP' },
    ]);
  });

  test.each([
    ['the selector', 'kind: Service\nspec: {selector: {tier: x}}', /cannot change spec.selector of service\/web/],
    [
      'an ownership label',
      'kind: Deployment\nmetadata: {labels: {app.kubernetes.io/instance: other}}',
      /cannot change metadata.labels of deployment\/web/,
    ],
    [
      'a Pod label the selector needs',
      'kind: Deployment\nspec: {template: {metadata: {labels: {app.kubernetes.io/name: null}}}}',
      /cannot change spec.template.metadata.labels of deployment\/web/,
    ],
    ['replicas', 'kind: Deployment\nspec: {replicas: 3}', /cannot change spec.replicas \(params.replicas\)/],
    [
      "the put's image",
      'kind: Deployment\nspec: {template: {spec: {containers: [{name: web, image: evil:1}]}}}',
      /cannot change the image of container web \(the put's image\) of deployment\/web/,
    ],
    [
      'the app container itself',
      'kind: Deployment\nspec: {template: {spec: {containers: [{$patch: replace}, {name: other, image: x}]}}}',
      /cannot change the image of container web/,
    ],
  ])('cannot change %s (exit 2 naming the field)', (_, yaml, message) => {
    expect(() => patched(yaml)).toThrow(message);
    try {
      patched(yaml);
    } catch (error) {
      expect((error as { exitCode?: number }).exitCode).toBe(2);
      expect((error as Error).message).toMatch(/^params\.patches: patch\.yml document 1 \(line \d+\): /);
    }
  });

  test.each([
    ['a kind it does not generate', 'kind: ConfigMap\ndata: {}', /kind is "ConfigMap"; a patch is for the generated/],
    ['no kind', 'spec: {}', /kind is missing/],
    ['another app', 'kind: Service\nmetadata: {name: api}', /metadata.name must be "web"/],
    ['a wrong apiVersion', 'apiVersion: extensions/v1beta1\nkind: Ingress', /apiVersion of a Ingress patch is/],
    ['an unknown directive', 'kind: Deployment\nspec: {$retainKeys: [a]}', /spec.\$retainKeys: only the directive/],
    ['an Ingress without host', 'kind: Ingress\nmetadata: {annotations: {a: b}}', /no Ingress \(params.host/],
  ])('refuses %s', (_, yaml, message) => {
    expect(() => patched(yaml)).toThrow(message);
  });

  test('strategicMerge leaves its inputs alone', () => {
    const target = { a: { b: [{ name: 'x', v: 1 }] } };
    const copy = structuredClone(target);
    strategicMerge(target, { a: { b: [{ name: 'x', v: 2 }] } }, 'Deployment');
    expect(target).toEqual(copy);
  });
});

describe('replicas: auto', () => {
  test('the Deployment carries no spec.replicas', () => {
    const deployment = byRef(renderManifests({ ...base, replicas: 'auto' }), 'Deployment/web');
    expect(deployment.spec).not.toHaveProperty('replicas');
  });

  test('an autoscaler of the release with a fixed replicas is refused (exit 2)', () => {
    const hpa = `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
`;
    expect(() => renderManifests({ ...base, replicas: 3, extraObjects: extras(hpa) })).toThrow(
      'params.replicas: horizontalpodautoscaler/web of the release scales deployment/web; set replicas: auto',
    );
    expect(renderManifests({ ...base, replicas: 'auto', extraObjects: extras(hpa) })).toHaveLength(3);
  });

  test('a hand-over only when our apply owns spec.replicas and the new Deployment leaves it out', () => {
    const desired = byRef(renderManifests({ ...base, replicas: 'auto' }), 'Deployment/web');
    const live = (owner: string, fields: unknown, replicas: unknown = 4) =>
      ({
        ...desired,
        metadata: { ...desired.metadata, managedFields: [{ manager: owner, operation: 'Apply', fieldsV1: fields }] },
        spec: { ...(desired.spec as object), replicas },
      }) as KubeObject;
    const owned = { 'f:spec': { 'f:replicas': {} } };
    expect(replicasToHandOver(desired, live(product, owned))).toBe(4);
    expect(replicasToHandOver(desired, live('kubectl', owned))).toBeUndefined();
    expect(replicasToHandOver(desired, live(product, { 'f:spec': {} }))).toBeUndefined();
    expect(replicasToHandOver(desired, live(product, owned, '4'))).toBeUndefined();
    expect(replicasToHandOver(desired, undefined)).toBeUndefined();
    const fixed = byRef(renderManifests({ ...base, replicas: 2 }), 'Deployment/web');
    expect(replicasToHandOver(fixed, live(product, owned))).toBeUndefined();
  });

  test('a Deployment the put scaled to 4 keeps 4 when the next put says auto (hand-over, then the apply)', async () => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake, { replicas: 4 })));
    const scaled = fake.get('apps/v1', 'Deployment', 'ns', 'web')!;
    expect((scaled.spec as any).replicas).toBe(4);

    fake.calls.length = 0;
    const input = deployInput(fake, { replicas: 'auto' });
    await fake.clock.run(deployRelease(input));
    expect((fake.get('apps/v1', 'Deployment', 'ns', 'web')!.spec as any).replicas).toBe(4);
    const applies = fake.calls.filter((c) => c.verb === 'apply' && c.kind === 'Deployment');
    expect(applies.map((c) => c.as ?? product)).toEqual([replicasHandoverManager, product]);
    expect(input.log.lines).toContain(
      'deployment/web: handing spec.replicas (4) over (replicas: auto): a put no longer sets it',
    );

    // The put no longer owns the field: the next put hands nothing over.
    fake.calls.length = 0;
    await fake.clock.run(deployRelease(deployInput(fake, { replicas: 'auto', image: 'registry.local/team/web:2' })));
    expect(fake.calls.filter((c) => c.as)).toEqual([]);
    expect((fake.get('apps/v1', 'Deployment', 'ns', 'web')!.spec as any).replicas).toBe(4);
  });

  test('without the hand-over the same apply would reset the count (the fake models server-side apply)', async () => {
    const fake = fakeWithController();
    await fake.clock.run(deployRelease(deployInput(fake, { replicas: 4 })));
    const input = deployInput(fake, { replicas: 'auto' });
    const deployment = input.release.objects.find((o) => o.kind === 'Deployment')!;
    await fake.client().apply(deployment);
    expect((fake.get('apps/v1', 'Deployment', 'ns', 'web')!.spec as any).replicas).toBeUndefined();
  });
});

describe('planPut', () => {
  test('env and env_from references become the render’s camelCase sources', () => {
    const plan = planPut(
      {
        source: { cluster_url: 'https://k8s:6443', token: 't', app: 'web', namespace: 'prod' },
        params: {
          image_ref: 'registry.local/team/web:1',
          replicas: 'auto',
          env: { A: 1, B: { config_map: 'c', key: 'k', optional: true }, C: { secret: 's', key: 'k' } },
          env_from: [{ config_map: 'c', prefix: 'P_' }, { secret: 's' }],
          image_pull_secrets: ['pull'],
          service_account: 'web',
          patches: ['deploy/patch.yml'],
        },
      },
      {},
    ) as DeployPlan;
    expect(plan.patches).toEqual(['deploy/patch.yml']);
    expect(plan.render).toMatchObject({
      replicas: 'auto',
      env: { A: '1', B: { configMap: 'c', key: 'k', optional: true }, C: { secret: 's', key: 'k' } },
      envFrom: [{ configMap: 'c', prefix: 'P_' }, { secret: 's' }],
      imagePullSecrets: ['pull'],
      serviceAccount: 'web',
    });
  });

  test('the new params shape a release: a redeploy refuses them', () => {
    expect(() =>
      planPut(
        {
          source: { cluster_url: 'https://k8s:6443', token: 't', app: 'web', namespace: 'prod' },
          params: { revision: '3', patches: ['p.yml'], service_account: 'web' },
        },
        {},
      ),
    ).toThrow('params.patches, params.service_account: cannot be combined with params.revision');
  });
});

describe('out: patches and the put’s image are recorded, so a redeploy re-applies them', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const sources = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'kdr-real-app-'));
    dirs.push(dir);
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
    return dir;
  };
  const source = {
    cluster_url: 'https://fake-cluster.test',
    token: 'fake-token-0123456789',
    app: 'web',
    namespace: 'ns',
  };
  const files = {
    'deploy/job.yml':
      'apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\nspec:\n  template:\n    spec:\n' +
      `      restartPolicy: Never\n      containers: [{name: m, image: ${imagePlaceholder}}]\n`,
    'deploy/patch.yml':
      'kind: Deployment\nspec: {template: {metadata: {annotations: {prometheus.io/scrape: "true"}}}}\n',
  };
  // No Job controller in the fake: the puts do not wait.
  const params = { manifests: ['deploy/job.yml'], patches: ['deploy/*patch.yml'], wait: false };

  test('put, put without the patch, redeploy of revision 1: its image and patch are back', async () => {
    const fake = fakeWithController();
    const deps = { log: memoryLogger(), env: {}, clock: fake.clock, connect: () => fake.client() };
    const put = (request: Record<string, unknown>) =>
      fake.clock.run(out({ source, params: request }, sources(files), deps));
    const live = () => ({
      scrape: (fake.get('apps/v1', 'Deployment', 'ns', 'web')!.spec as any).template.metadata.annotations?.[
        'prometheus.io/scrape'
      ],
      job: podSpec(fake.get('batch/v1', 'Job', 'ns', 'migrate')!).containers[0].image,
    });
    await put({ ...params, image_ref: `registry.local/team/web@${digest}` });
    expect(live()).toEqual({ scrape: 'true', job: imageRef });
    await put({ manifests: ['deploy/job.yml'], image_ref: 'registry.local/team/web:2', wait: false });
    expect(live()).toEqual({ scrape: undefined, job: 'registry.local/team/web:2' });
    const redeployed = await put({ revision: '1', wait: false });
    expect(redeployed.version.revision).toBe('3');
    expect(live()).toEqual({ scrape: 'true', job: imageRef });
  });

  test('a dry run shows the patch; a missing patch file is an error before any cluster call', async () => {
    const fake = fakeWithController();
    const log = memoryLogger();
    const deps = { log, env: {}, clock: fake.clock, connect: () => fake.client() };
    await fake.clock.run(
      out(
        { source, params: { ...params, image_ref: 'registry.local/team/web:1', dry_run: true } },
        sources(files),
        deps,
      ),
    );
    expect(log.lines.join('\n')).toMatch(/prometheus\.io\/scrape/);
    fake.calls.length = 0;
    await expect(
      fake.clock.run(out({ source, params: { image_ref: 'x:1', patches: ['nope.yml'] } }, sources({}), deps)),
    ).rejects.toThrow('params.patches[0]: nope.yml does not exist in the sources directory');
    expect(fake.calls).toEqual([]);
  });
});

test('a dry run of replicas: auto shows the count kept, not reset', async () => {
  const fake = fakeWithController();
  await fake.clock.run(deployRelease(deployInput(fake, { replicas: 4 })));
  const result = await fake.clock.run(deployRelease(deployInput(fake, { replicas: 'auto', dryRun: true })));
  const deployment = result.dryRun!.objects.find((o) => o.ref === 'deployment/web')!;
  expect((deployment.dryRun!.spec as any).replicas).toBe(4);
  expect(fake.calls.filter((c) => c.as)).toEqual([]);
});
