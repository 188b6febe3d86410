// example-pipeline.yml is a valid Concourse pipeline, and every put in it uses only params our schema accepts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv-draft-04';
import { load } from 'js-yaml';
import { expect, test } from 'vitest';
import { parseOutRequest } from '../../src/request/out-schema.js';

const root = join(import.meta.dirname, '..', '..');
const pipeline = load(readFileSync(join(root, 'example-pipeline.yml'), 'utf8')) as {
  resource_types: { name: string }[];
  resources: { name: string; type: string; source: Record<string, unknown> }[];
  jobs: unknown[];
};

/**
 * The schema, generated from Concourse's Go types before `no_get` existed, with the two put-step fields it gets wrong
 * set to what Concourse's atc/steps.go accepts: `no_get` (a boolean) and `inputs` (`all`, `detect` or a list of
 * artifact names; the generator saw InputsConfig's Go struct, not its custom unmarshalling). Nothing else is relaxed.
 */
function pipelineSchema() {
  const schema = JSON.parse(
    readFileSync(join(root, 'test', 'fixtures', 'schemas', 'concourse-pipeline.schema.json'), 'utf8'),
  ) as { definitions: Record<string, { properties?: Record<string, unknown> } & Record<string, unknown>> };
  schema.definitions.PutStep!.properties!.no_get = { type: 'boolean' };
  schema.definitions.InputsConfig = {
    anyOf: [{ enum: ['all', 'detect'] }, { type: 'array', items: { type: 'string' } }],
  };
  return schema;
}

test('validates against the Concourse pipeline schema', () => {
  const schema = pipelineSchema();
  // A CommonJS module: its class is the default export's default under NodeNext.
  const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;
  const ajv = new (
    Ajv as unknown as new (o: object) => {
      compile(s: object): ((d: unknown) => boolean) & { errors?: unknown[] | null };
    }
  )({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  const valid = validate(pipeline);
  expect(validate.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
});

/** Every put step in the plan tree (including ensure/on_failure hooks). */
function puts(node: unknown, found: { put: string; params?: Record<string, unknown> }[] = []) {
  if (Array.isArray(node)) node.forEach((n) => puts(n, found));
  else if (node && typeof node === 'object') {
    const step = node as Record<string, unknown>;
    if (typeof step.put === 'string')
      found.push({ put: step.put, params: step.params as Record<string, unknown> | undefined });
    Object.values(step).forEach((v) => puts(v, found));
  }
  return found;
}

test('every put to a kubernetes-deploy resource has a source and params the resource accepts', () => {
  const ours = new Map(pipeline.resources.filter((r) => r.type === 'kubernetes-deploy').map((r) => [r.name, r.source]));
  const steps = puts(pipeline.jobs).filter((p) => ours.has(p.put));
  expect(steps.length).toBeGreaterThanOrEqual(4);
  // Credentials are ((vars)) in the example; stand-ins let the rest be checked strictly.
  const stand = (source: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(source).map(([k, v]) => [
        k,
        typeof v === 'string' && v.startsWith('((') ? (k === 'cluster_url' ? 'https://127.0.0.1:6443' : 'x') : v,
      ]),
    );
  for (const step of steps) {
    const source = stand(ours.get(step.put)!);
    delete source.cluster_ca;
    delete source.admin_cert;
    delete source.admin_key;
    if (!source.token) source.token = 'x';
    expect(
      () => parseOutRequest({ source, params: step.params }),
      `${step.put} ${JSON.stringify(step.params)}`,
    ).not.toThrow();
  }
});

test("the schema's put-step fixes accept only what Concourse accepts", () => {
  const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;
  const ajv = new (Ajv as unknown as new (o: object) => { compile(s: object): (d: unknown) => boolean })({
    strict: false,
  });
  const validate = ajv.compile(pipelineSchema());
  const withPut = (step: Record<string, unknown>) => ({ jobs: [{ name: 'j', plan: [{ put: 'r', ...step }] }] });
  expect(validate(withPut({ inputs: 'detect', no_get: true }))).toBe(true);
  expect(validate(withPut({ inputs: ['a', 'b'] }))).toBe(true);
  expect(validate(withPut({ inputs: 'some' }))).toBe(false);
  expect(validate(withPut({ no_get: 'yes' }))).toBe(false);
  expect(validate(withPut({ no_gett: true }))).toBe(false);
});

test("Concourse's habits: per-build names by BUILD_ID, put inputs detected, no get of a marker, promotion", () => {
  const ours = new Set(pipeline.resources.filter((r) => r.type === 'kubernetes-deploy').map((r) => r.name));
  const steps = (node: unknown, found: Record<string, unknown>[] = []) => {
    if (Array.isArray(node)) node.forEach((n) => steps(n, found));
    else if (node && typeof node === 'object') {
      if ('put' in node || 'get' in node) found.push(node as Record<string, unknown>);
      Object.values(node).forEach((v) => steps(v, found));
    }
    return found;
  };
  const all = steps(pipeline.jobs);
  const putsOfOurs = all.filter((s) => ours.has(s.put as string));
  for (const step of putsOfOurs) {
    expect(step.inputs, JSON.stringify(step)).toBe('detect');
    const params = step.params as Record<string, unknown>;
    expect(JSON.stringify(params)).not.toContain('${BUILD_NAME}');
    expect(step.no_get ?? false).toBe(params.delete === true || params.sweep !== undefined);
  }
  const checkEvery = Object.fromEntries(
    pipeline.resources
      .filter((r) => ours.has(r.name))
      .map((r) => [r.name, (r as { check_every?: string }).check_every]),
  );
  expect(checkEvery).toEqual({ staging: 'never', production: undefined, 'production-docs': 'never' });
  const production = (pipeline.jobs as { name: string; plan: unknown }[]).find((j) => j.name === 'production')!;
  const inProduction = steps(production.plan);
  expect(inProduction).toContainEqual({ get: 'staging', passed: ['staging'], trigger: true });
  const deploys = inProduction.filter((s) => s.put === 'production');
  expect(deploys.map((s) => (s.params as { image: string }).image)).toEqual(['staging', 'staging']);
});
