// Issue 27, item 2: an object of the release annotated `kubernetes-deploy-resource.io/wait-for: condition=Ready` is
// waited for, against a CustomResourceDefinition this test registers and an object whose status the test sets, as its
// operator would. Through the compiled scripts.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { kubectl, kubectlJson, useNamespace, waitFor } from '../support/cluster.js';
import { readyImage } from '../support/images.js';
import { clusterSource, sourcesDir, tagOnly } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';

const group = 'kdr-test.example.com';
const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `databases.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { kind: 'Database', plural: 'databases', singular: 'database', listKind: 'DatabaseList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        // As operators do: the status is theirs, written through its subresource.
        subresources: { status: {} },
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    ],
  },
};

const database = (annotations: Record<string, string>) =>
  JSON.stringify({
    apiVersion: `${group}/v1`,
    kind: 'Database',
    metadata: { name: 'db', annotations },
    spec: { engine: 'postgres', size: '1Gi' },
  });
const waitForReady = { 'kubernetes-deploy-resource.io/wait-for': 'condition=Ready' };
const before = { ...waitForReady, 'kubernetes-deploy-resource.io/phase': 'before' };

beforeAll(async () => {
  await kubectl(['apply', '-f', '-'], { input: JSON.stringify(crd) });
  await kubectl(['wait', '--for=condition=Established', `crd/databases.${group}`, '--timeout=30s'], {
    timeoutMs: 40_000,
  });
});
afterAll(async () => {
  await kubectl(['delete', 'crd', `databases.${group}`, '--ignore-not-found', '--wait=false']);
});

describe('a custom resource waited for by its condition', () => {
  const ns = useNamespace('kdr-wait-for');
  const put = (annotations: Record<string, string>, timeout = '90s') =>
    runScript(
      'out',
      {
        source: clusterSource({ namespace: ns.name }),
        params: { image: 'image', manifests: ['db.yml'], timeout },
      },
      { dir: sourcesDir(tagOnly(readyImage('1')), { 'db.yml': database(annotations) }) },
    );
  /** Sets the Database's status as its operator would, once the put has created it. */
  const operatorSets = async (conditions: Record<string, unknown>[]) => {
    await waitFor('the put to create database/db', async () => {
      const found = await kubectl(['get', `databases.${group}`, 'db', '-o', 'name'], { namespace: ns.name });
      return found.code === 0 && found.stdout.trim() !== '';
    });
    await kubectl(
      [
        'patch',
        `databases.${group}`,
        'db',
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { conditions } }),
      ],
      { namespace: ns.name },
    );
  };
  const deploymentExists = async () =>
    (await kubectlJson(['get', 'deployments'], { namespace: ns.name })).items.length > 0;

  test('phase before: the put holds until Ready is True, and only then applies the app', async () => {
    const running = put(before);
    // False while the operator says it is still working (kstatus's Reconciling): not a failure.
    await operatorSets([
      { type: 'Ready', status: 'False', reason: 'Provisioning', message: 'creating volume' },
      { type: 'Reconciling', status: 'True', reason: 'Provisioning' },
    ]);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await deploymentExists()).toBe(false);
    await operatorSets([{ type: 'Ready', status: 'True', reason: 'Available', message: 'accepting connections' }]);
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    const log = lines(result.stderr);
    const ready = log.indexOf('database/db: condition Ready is True');
    expect(ready, result.stderr).toBeGreaterThan(-1);
    expect(ready).toBeLessThan(log.indexOf('deployment/web created'));
  });

  test('False with a reason fails the put at once (exit 5), before the app is applied', async () => {
    const running = put(before);
    const started = Date.now();
    await operatorSets([{ type: 'Ready', status: 'False', reason: 'QuotaExceeded', message: 'no room for 1Gi' }]);
    const result = await running;
    expect(result.code, result.stderr).toBe(5);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(lines(result.stderr).at(-1)).toBe(
      'error: database/db failed: condition Ready is False: QuotaExceeded: no room for 1Gi',
    );
    expect(await deploymentExists()).toBe(false);
  });

  test('with the app, within the one timeout: exit 6 naming what it waits for', async () => {
    const result = await put(waitForReady, '15s');
    expect(result.code, result.stderr).toBe(6);
    const last = lines(result.stderr).at(-1)!;
    expect(last).toMatch(/^error: timed out after 15s waiting for the rollout: /);
    expect(last).toContain('database/db: waiting for condition Ready (not reported yet)');
  });
});
