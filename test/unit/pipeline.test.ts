// example-pipeline.yml is a valid Concourse pipeline, and every put in it uses only params our schema accepts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule from 'ajv-draft-04';
import { load } from 'js-yaml';
import { expect, test } from 'vitest';
import { parseOutRequest } from '../../src/request/parse.js';

const root = join(import.meta.dirname, '..', '..');
const pipeline = load(readFileSync(join(root, 'example-pipeline.yml'), 'utf8')) as {
  resource_types: { name: string }[];
  resources: { name: string; type: string; source: Record<string, unknown> }[];
  jobs: unknown[];
};

test('validates against the Concourse pipeline schema', () => {
  const schema = JSON.parse(
    readFileSync(join(root, 'test', 'fixtures', 'schemas', 'concourse-pipeline.schema.json'), 'utf8'),
  );
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
