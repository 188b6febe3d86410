// params.security_context: the rendered Pods held against the Pod Security Standards (test/support/pod-security.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseExtraManifests } from '../../src/manifests/extra.js';
import { renderManifests, type ReleaseSpec } from '../../src/manifests/render.js';
import { toYaml } from '../../src/manifests/yaml.js';
import { expectGolden, releaseSpec } from '../support/golden.js';
import { podSecurityViolations, podTemplateOf, type PodSecurityLevel } from '../support/pod-security.js';

const base = releaseSpec();
const full: ReleaseSpec = {
  ...base,
  replicas: 2,
  env: { MODE: 'staging' },
  args: ['--listen', ':8080'],
  resources: { requests: { cpu: '100m' }, limits: { memory: '128Mi' } },
  readinessPath: '/healthz',
  host: 'web.staging.example.com',
};
const deploymentOf = (spec: ReleaseSpec) =>
  renderManifests(spec).find((o) => o.kind === 'Deployment' && o.metadata.name === spec.app)!;
const violations = (spec: ReleaseSpec, level: PodSecurityLevel) =>
  podSecurityViolations(podTemplateOf(deploymentOf(spec)), level);

describe('security_context: restricted', () => {
  test.each([
    ['minimal', base],
    ['with args, env, probe, resources and an Ingress', full],
  ])('the %s Deployment passes the restricted standard', (_name, spec) => {
    expect(violations({ ...spec, securityContext: 'restricted' }, 'restricted')).toEqual([]);
    expect(violations({ ...spec, securityContext: 'restricted' }, 'baseline')).toEqual([]);
  });

  test('golden YAML', () => {
    expectGolden('restricted.yml', toYaml(renderManifests({ ...full, securityContext: 'restricted' })));
  });

  test('adds only the security contexts: everything else is the baseline rendering', () => {
    const restricted = renderManifests({ ...full, securityContext: 'restricted' });
    const baseline = renderManifests(full);
    const template = (restricted[0]!.spec as any).template.spec;
    expect(template.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(template.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    delete template.securityContext;
    delete template.containers[0].securityContext;
    expect(restricted).toEqual(baseline);
  });

  test("extra manifests are deployed as written (their Pods are the user's to make restricted)", () => {
    const docs = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'postgres.yml'), 'utf8');
    const extraObjects = parseExtraManifests([{ path: 'postgres.yml', content: docs }], 'staging');
    const db = (level: PodSecurityLevel) =>
      renderManifests({ ...base, extraObjects, securityContext: level }).find(
        (o) => o.metadata.name === 'db' && o.kind === 'Deployment',
      );
    expect(db('restricted')).toEqual(db('baseline'));
  });
});

describe('security_context: baseline (the default)', () => {
  test('is the rendering of a request without security_context, byte for byte', () => {
    expect(toYaml(renderManifests({ ...full, securityContext: 'baseline' }))).toBe(toYaml(renderManifests(full)));
  });

  test('passes baseline but not restricted, which names what is missing', () => {
    expect(violations(full, 'baseline')).toEqual([]);
    expect(violations(full, 'restricted')).toEqual([
      'spec.containers[0].securityContext.allowPrivilegeEscalation must be false',
      'spec.containers[0].securityContext.runAsNonRoot must be true (or spec.securityContext.runAsNonRoot)',
      'spec.containers[0].securityContext.seccompProfile.type must be RuntimeDefault or Localhost ' +
        '(or spec.securityContext.seccompProfile.type)',
      'spec.containers[0].securityContext.capabilities.drop must include ALL',
    ]);
  });
});

describe('the Pod Security Standards checker finds what each rule forbids', () => {
  const restrictedContainer = {
    name: 'c',
    image: 'x:1',
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
  };
  const restrictedPod = {
    spec: {
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [restrictedContainer],
    },
  };
  const withPod = (podFields: object, containerSc: object = {}, containerFields: object = {}) => ({
    metadata: {},
    spec: {
      ...restrictedPod.spec,
      ...podFields,
      containers: [
        {
          ...restrictedContainer,
          ...containerFields,
          securityContext: { ...restrictedContainer.securityContext, ...containerSc },
        },
      ],
    },
  });

  test('a fully restricted Pod passes both levels', () => {
    expect(podSecurityViolations(restrictedPod, 'restricted')).toEqual([]);
    expect(podSecurityViolations(restrictedPod, 'baseline')).toEqual([]);
  });

  test.each<[string, ReturnType<typeof withPod>, string]>([
    ['host network', withPod({ hostNetwork: true }), 'spec.hostNetwork must not be true'],
    ['host PID', withPod({ hostPID: true }), 'spec.hostPID must not be true'],
    ['host IPC', withPod({ hostIPC: true }), 'spec.hostIPC must not be true'],
    ['privileged', withPod({}, { privileged: true }), 'spec.containers[0].securityContext.privileged must not be true'],
    [
      'SYS_ADMIN',
      withPod({}, { capabilities: { drop: ['ALL'], add: ['SYS_ADMIN'] } }),
      'spec.containers[0].securityContext.capabilities.add: SYS_ADMIN is not allowed',
    ],
    [
      'hostPath',
      withPod({ volumes: [{ name: 'root', hostPath: { path: '/' } }] }),
      'spec.volumes[0] (root): hostPath volumes are not allowed',
    ],
    [
      'hostPort',
      withPod({}, {}, { ports: [{ containerPort: 80, hostPort: 80 }] }),
      'spec.containers[0].ports: hostPort 80 is not allowed',
    ],
    [
      'unsafe sysctl',
      withPod({
        securityContext: { ...restrictedPod.spec.securityContext, sysctls: [{ name: 'kernel.msgmax', value: '1' }] },
      }),
      'spec.securityContext.sysctls: kernel.msgmax is not a safe sysctl',
    ],
    [
      'SELinux user',
      withPod({}, { seLinuxOptions: { user: 'root' } }),
      'spec.containers[0].securityContext.seLinuxOptions.user must not be set',
    ],
    [
      'proc mount',
      withPod({}, { procMount: 'Unmasked' }),
      'spec.containers[0].securityContext.procMount must be Default',
    ],
    [
      'unconfined seccomp',
      withPod({}, { seccompProfile: { type: 'Unconfined' } }),
      'spec.containers[0].securityContext.seccompProfile.type must not be Unconfined',
    ],
    [
      'AppArmor unconfined',
      withPod({}, { appArmorProfile: { type: 'Unconfined' } }),
      'spec.containers[0].securityContext.appArmorProfile.type must not be Unconfined',
    ],
  ])('baseline refuses %s', (_name, pod, message) => {
    expect(podSecurityViolations(pod, 'baseline')).toContain(message);
    expect(podSecurityViolations(pod, 'restricted')).toContain(message);
  });

  test.each<[string, ReturnType<typeof withPod>, string]>([
    [
      'privilege escalation',
      withPod({}, { allowPrivilegeEscalation: true }),
      'spec.containers[0].securityContext.allowPrivilegeEscalation must be false',
    ],
    [
      'a container running as root',
      withPod({}, { runAsNonRoot: false }),
      'spec.containers[0].securityContext.runAsNonRoot must not be false',
    ],
    [
      'runAsUser 0',
      withPod({ securityContext: { ...restrictedPod.spec.securityContext, runAsUser: 0 } }),
      'spec.securityContext.runAsUser must not be 0',
    ],
    [
      'no seccomp profile',
      withPod({ securityContext: { runAsNonRoot: true } }),
      'spec.containers[0].securityContext.seccompProfile.type must be RuntimeDefault or Localhost ' +
        '(or spec.securityContext.seccompProfile.type)',
    ],
    [
      'capabilities not dropped',
      withPod({}, { capabilities: {} }),
      'spec.containers[0].securityContext.capabilities.drop must include ALL',
    ],
    [
      'an added baseline capability',
      withPod({}, { capabilities: { drop: ['ALL'], add: ['CHOWN'] } }),
      'spec.containers[0].securityContext.capabilities.add: CHOWN is not allowed (only NET_BIND_SERVICE)',
    ],
    [
      'a hostPath-free but non-restricted volume',
      withPod({ volumes: [{ name: 'data', nfs: { server: 'nfs', path: '/' } }] }),
      'spec.volumes[0] (data): nfs volumes are not allowed',
    ],
  ])('restricted refuses %s (baseline allows it)', (_name, pod, message) => {
    expect(podSecurityViolations(pod, 'restricted')).toContain(message);
    expect(podSecurityViolations(pod, 'baseline')).toEqual([]);
  });

  test('init containers are checked too; NET_BIND_SERVICE may be added', () => {
    const pod = withPod(
      { initContainers: [{ name: 'init', image: 'x:1' }] },
      { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
    );
    expect(podSecurityViolations(pod, 'restricted')).toEqual([
      'spec.initContainers[0].securityContext.allowPrivilegeEscalation must be false',
      'spec.initContainers[0].securityContext.capabilities.drop must include ALL',
    ]);
  });
});
