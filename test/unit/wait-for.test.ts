// Objects waited for by `kubernetes-deploy-resource.io/wait-for: condition=<Type>`: the annotation's grammar, checked
// when the manifests are parsed; the verdict on a condition (pure); and the put held by one (engine, fake cluster).
import { describe, expect, test } from 'vitest';
import { deployRelease } from '../../src/engine/deploy.js';
import { BadRequestError, RolloutFailedError, TimedOutError } from '../../src/errors.js';
import type { KubeObject } from '../../src/kube/object.js';
import { parseExtraManifests } from '../../src/manifests/extra.js';
import { parseWaitFor } from '../../src/manifests/wait-for.js';
import { assessWorkload, emptySnapshot, isWorkload } from '../../src/rollout/assess.js';
import { deployInput, fakeWithController } from '../support/fake-release.js';

const certificate = (annotations: string, extra = '') => `
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web-tls
  annotations: { ${annotations} }
spec: { secretName: web-tls, dnsNames: [web.example.com] }
${extra}`;
const parse = (content: string) => parseExtraManifests([{ path: 'tls.yml', content }], 'ns');

describe('the wait-for annotation', () => {
  test('condition=<Type>, with reasons that only mean "not yet" after pending=', () => {
    expect(parseWaitFor('condition=Ready')).toEqual({ type: 'Ready', pending: [] });
    expect(parseWaitFor(' condition=Ready , pending=DoesNotExist|Issuing ')).toEqual({
      type: 'Ready',
      pending: ['DoesNotExist', 'Issuing'],
    });
    expect(parseWaitFor('Ready')).toEqual({
      error: '"Ready": expected "condition=<Type>" or "condition=<Type>,pending=<Reason>|<Reason>"',
    });
    expect(parseWaitFor('condition=')).toMatchObject({ error: expect.stringMatching(/^"" is not a condition type/) });
    expect(parseWaitFor('condition=Ready,pending=a b')).toMatchObject({
      error: expect.stringMatching(/^"a b" is not a condition reason/),
    });
    expect(parseWaitFor('condition=Ready,until=x')).toHaveProperty('error');
    expect(parseWaitFor(`condition=Ready,pending=${Array(21).fill('A').join('|')}`)).toEqual({
      error: 'at most 20 pending reasons',
    });
  });

  test('a bad value, or one on a kind waited for by its own rules, is a request error naming the object', () => {
    expect(() => parse(certificate('kubernetes-deploy-resource.io/wait-for: Ready'))).toThrow(
      new BadRequestError(
        'params.manifests: tls.yml document 1 (line 2): certificate/web-tls: ' +
          'annotation kubernetes-deploy-resource.io/wait-for: ' +
          '"Ready": expected "condition=<Type>" or "condition=<Type>,pending=<Reason>|<Reason>"',
      ),
    );
    const deployment =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: db\n  annotations:\n' +
      '    kubernetes-deploy-resource.io/wait-for: condition=Available\n';
    expect(() => parse(deployment)).toThrow(/deployment\/db: .*: a Deployment is waited for by its own rules already/);
  });

  test('phase before goes with it: the object is waited for before the app is applied', () => {
    const [cert] = parse(
      certificate(
        'kubernetes-deploy-resource.io/wait-for: condition=Ready, kubernetes-deploy-resource.io/phase: before',
      ),
    );
    expect(isWorkload(cert!)).toBe(true);
    expect(() => parse(certificate('kubernetes-deploy-resource.io/phase: before'))).toThrow(
      /certificate\/web-tls: annotation kubernetes-deploy-resource.io\/phase: before is for Jobs \(batch\/v1\) and/,
    );
  });
});

describe('the verdict on a condition', () => {
  const applied = (wait = 'condition=Ready', generation = 2): KubeObject => ({
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: {
      name: 'web-tls',
      uid: 'c1',
      generation,
      annotations: { 'kubernetes-deploy-resource.io/wait-for': wait },
    },
  });
  const judge = (status: unknown, wait?: string) => {
    const snapshot = emptySnapshot();
    if (status !== undefined) snapshot.Custom.push({ ...applied(wait), status } as KubeObject);
    // Another kind of the same name is not ours.
    snapshot.Custom.push({ ...applied(), kind: 'Issuer', status: { conditions: [{ type: 'Ready', status: 'True' }] } });
    return assessWorkload(applied(wait), snapshot);
  };
  const ready = (status: string, reason?: string, more: Record<string, unknown> = {}) => ({
    type: 'Ready',
    status,
    ...(reason ? { reason, message: `${reason} said` } : {}),
    ...more,
  });

  test('True is done; not there yet, or not reported yet, is progressing', () => {
    expect(judge({ conditions: [ready('True')] })).toEqual({
      state: 'done',
      message: 'certificate/web-tls: condition Ready is True',
    });
    expect(judge(undefined)).toMatchObject({ state: 'progressing', quiet: true });
    expect(judge({})).toEqual({
      state: 'progressing',
      message: 'certificate/web-tls: waiting for condition Ready (not reported yet)',
    });
  });

  test('False with a reason fails at once, quoting it; a pending reason, no reason or Unknown does not', () => {
    expect(judge({ conditions: [ready('False', 'IssuerNotFound')] })).toEqual({
      state: 'failed',
      message: 'certificate/web-tls failed: condition Ready is False: IssuerNotFound: IssuerNotFound said',
    });
    expect(judge({ conditions: [ready('False', 'DoesNotExist')] }, 'condition=Ready,pending=DoesNotExist')).toEqual({
      state: 'progressing',
      message: 'certificate/web-tls: waiting for condition Ready (now False: DoesNotExist: DoesNotExist said)',
    });
    expect(judge({ conditions: [ready('False')] }).state).toBe('progressing');
    expect(judge({ conditions: [ready('Unknown', 'Pending')] }).state).toBe('progressing');
  });

  test('kstatus: Reconciling holds off a False, Stalled fails, a status of an older generation does not count', () => {
    const reconciling = { type: 'Reconciling', status: 'True' };
    expect(judge({ conditions: [ready('False', 'Provisioning'), reconciling] }).state).toBe('progressing');
    expect(judge({ conditions: [{ type: 'Stalled', status: 'True', reason: 'BadSpec', message: 'no' }] })).toEqual({
      state: 'failed',
      message: 'certificate/web-tls failed: Stalled: BadSpec: no',
    });
    expect(judge({ observedGeneration: 1, conditions: [ready('True')] })).toEqual({
      state: 'progressing',
      message: 'certificate/web-tls: waiting for condition Ready (its controller has not observed generation 2 yet)',
    });
    expect(judge({ conditions: [ready('False', 'Old', { observedGeneration: 1 })] }).state).toBe('progressing');
    expect(judge({ conditions: [ready('True', undefined, { observedGeneration: 2 })] }).state).toBe('done');
  });

  test('a status that is not what it should be is waited on, never trusted', () => {
    expect(judge({ conditions: 'Ready' }).state).toBe('progressing');
    expect(judge({ conditions: [null, 3, { status: 'True' }] }).state).toBe('progressing');
  });
});

describe('a put with an object waited for by its condition', () => {
  const manifests = (phase: boolean) =>
    certificate(
      'kubernetes-deploy-resource.io/wait-for: condition=Ready' +
        (phase ? ', kubernetes-deploy-resource.io/phase: before' : ''),
    );
  const setup = (phase: boolean, become: { after: number; condition: Record<string, unknown> }) => {
    const fake = fakeWithController().defineKind('cert-manager.io/v1', 'Certificate', true);
    // The operator: issues the certificate some time after it is created.
    fake.react('Certificate', (event, cluster) => {
      if (event.type !== 'ADDED') return;
      const key = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', namespace: 'ns', name: 'web-tls' };
      cluster.clock.setTimeout(() => cluster.setStatus(key, { conditions: [become.condition] }), become.after);
    });
    return { fake, input: deployInput(fake, { manifests: manifests(phase) }) };
  };

  test('phase before: the app is applied only once the condition is True', async () => {
    const { fake, input } = setup(true, { after: 5000, condition: { type: 'Ready', status: 'True' } });
    const started = fake.clock.now();
    await fake.clock.run(deployRelease(input));
    const applied = fake.calls.filter((c) => c.verb === 'apply').map((c) => `${c.kind}/${c.name}`);
    expect(applied).toEqual(['Certificate/web-tls', 'Deployment/web', 'Service/web']);
    const deployment = fake.get('apps/v1', 'Deployment', 'ns', 'web')!;
    expect(Date.parse(deployment.metadata.creationTimestamp as string) - started).toBeGreaterThanOrEqual(5000);
    expect(input.log.lines).toContain('certificate/web-tls: condition Ready is True');
  });

  test('False with a reason fails the put at once, before the app is applied', async () => {
    const condition = { type: 'Ready', status: 'False', reason: 'IssuerNotFound', message: 'issuer "le" not found' };
    const { fake, input } = setup(true, { after: 1000, condition });
    const started = fake.clock.now();
    await expect(fake.clock.run(deployRelease(input))).rejects.toThrow(
      new RolloutFailedError(
        'certificate/web-tls failed: condition Ready is False: IssuerNotFound: issuer "le" not found',
      ),
    );
    expect(fake.clock.now() - started).toBeLessThan(5000);
    expect(fake.get('apps/v1', 'Deployment', 'ns', 'web')).toBeUndefined();
  });

  test('without phase before it is waited for with the app, within the one deadline', async () => {
    const { fake, input } = setup(false, { after: 120_000, condition: { type: 'Ready', status: 'True' } });
    const put = fake.clock.run(deployRelease({ ...input, deadline: input.deadline }));
    await expect(put).rejects.toThrow(TimedOutError);
    await expect(put).rejects.toThrow(/certificate\/web-tls: waiting for condition Ready \(not reported yet\)/);
  });
});
