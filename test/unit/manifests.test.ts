import { describe, expect, test } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import { parseExtraManifests } from '../../src/manifests/extra.js';
import { imageReference, parseImageReference, versionLabel } from '../../src/manifests/image.js';
import { formatDuration, parseDuration } from '../../src/time.js';
import { expandBuildVars } from '../../src/request/plan.js';

const digest = 'sha256:' + '0123456789abcdef'.repeat(4);

describe('image references', () => {
  test.each<[string, ReturnType<typeof parseImageReference>]>([
    ['nginx', { repository: 'nginx' }],
    ['nginx:1.27', { repository: 'nginx', tag: '1.27' }],
    ['registry.local:5000/team/web:v2', { repository: 'registry.local:5000/team/web', tag: 'v2' }],
    [`registry.local:5000/team/web@${digest}`, { repository: 'registry.local:5000/team/web', digest }],
    [`web:1@${digest}`, { repository: 'web', tag: '1', digest }],
    ['UPPER/case', undefined],
    ['web@sha256:short', undefined],
  ])('%s', (ref, expected) => {
    expect(parseImageReference(ref)).toEqual(expected);
  });

  test('the digest pins the deployed reference; the version label is the tag, else the short digest', () => {
    expect(imageReference({ repository: 'r/web', tag: '1', digest })).toBe(`r/web@${digest}`);
    expect(imageReference({ repository: 'r/web', tag: '1' })).toBe('r/web:1');
    expect(versionLabel({ repository: 'r', tag: '1.2.3+build' })).toBe('1.2.3-build');
    expect(versionLabel({ repository: 'r', digest })).toBe('sha256-0123456789ab');
  });
});

describe('durations', () => {
  test.each<[string, number | undefined]>([
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['5', undefined],
    ['5 m', undefined],
    ['', undefined],
  ])('%s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  test('format', () => {
    expect([
      formatDuration(800),
      formatDuration(4200),
      formatDuration(42_000),
      formatDuration(125_000),
      formatDuration(26 * 3_600_000 + 5 * 60_000),
    ]).toEqual(['800ms', '4.2s', '42s', '2m5s', '26h5m']);
  });
});

describe('build variable expansion', () => {
  const env = { BUILD_NAME: '42', BUILD_JOB_NAME: 'deploy' };
  test('expands the Concourse build variables', () => {
    expect(expandBuildVars('staging-${BUILD_JOB_NAME}-${BUILD_NAME}', env, 'params.namespace')).toBe(
      'staging-deploy-42',
    );
  });
  test.each<[string, string]>([
    [
      '${HOME}',
      'params.namespace: ${HOME} is not one of ${BUILD_ID}, ${BUILD_NAME}, ${BUILD_JOB_NAME}, ' +
        '${BUILD_PIPELINE_NAME}, ${BUILD_TEAM_NAME}',
    ],
    ['x-${BUILD_ID}', "params.namespace: ${BUILD_ID} is not set in this step's environment"],
  ])('%s', (text, message) => {
    expect(() => expandBuildVars(text, env, 'params.namespace')).toThrow(new BadRequestError(message));
  });
});

describe('extra manifests', () => {
  const parse = (content: string, reserved: string[] = []) =>
    parseExtraManifests([{ path: 'deps.yml', content }], 'staging', reserved);
  test.each<[string, string, string]>([
    ['invalid YAML', 'a: [b\n', 'params.manifests: deps.yml line 2: not valid YAML: deficient indentation'],
    [
      'not an object',
      '- 1\n- 2\n',
      'params.manifests: deps.yml document 1 (line 1): not a Kubernetes object ' +
        '(expected a mapping with apiVersion, kind and metadata)',
    ],
    [
      'missing kind',
      'apiVersion: v1\nmetadata: {name: a}\n',
      'params.manifests: deps.yml document 1 (line 1): missing kind',
    ],
    [
      'missing name',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: a-}\n',
      'params.manifests: deps.yml document 1 (line 1): ConfigMap without metadata.name ' +
        '(generateName is not supported: the release must find it again)',
    ],
    [
      'another namespace',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: prod}\n',
      'params.manifests: deps.yml document 1 (line 1): configmap/a names namespace "prod", ' +
        'but the release goes to "staging" (remove metadata.namespace)',
    ],
    [
      'cluster-scoped',
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n',
      'params.manifests: deps.yml document 1 (line 1): Namespace is cluster-scoped; ' +
        'a release holds only namespaced objects',
    ],
    [
      'duplicates',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n' +
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n',
      'params.manifests: deps.yml document 2 (line 5): configmap/a is defined twice (also in deps.yml document 1)',
    ],
  ])('%s', (_name, content, message) => {
    expect(() => parse(content)).toThrow(new BadRequestError(message));
  });

  test('a name the release itself uses is refused', () => {
    expect(() => parse('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n', ['Deployment/web'])).toThrow(
      'params.manifests: deps.yml document 1 (line 1): deployment/web is defined twice (also in the release itself)',
    );
  });

  test('lists are flattened, empty documents skipped, server fields dropped', () => {
    const objects = parse(
      '---\n---\napiVersion: v1\nkind: List\nitems:\n' +
        '  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a, uid: x, resourceVersion: "5"}, data: {k: v}}\n',
    );
    expect(objects).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'v' } }]);
  });
});
