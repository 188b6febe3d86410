import { describe, expect, test } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import { namespaceOfSource } from '../../src/request/namespace.js';
import { parseOutRequest } from '../../src/request/out-schema.js';
import { parseCheckRequest, parseInRequest } from '../../src/request/parse.js';
import { planPut } from '../../src/request/plan.js';
import type { Source } from '../../src/request/schemas.js';

const source = { cluster_url: 'https://127.0.0.1:6443', token: 'abc', app: 'web' };
const version = { app: 'web', namespace: 'default', revision: '1', image: 'r@sha256:' + 'a'.repeat(64) };

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return (error as Error).message;
  }
  throw new Error('expected a BadRequestError');
}

describe('source', () => {
  test.each<[string, unknown, string]>([
    ['unknown keys are named', { ...source, foo: 1, bar: 2 }, 'source: unknown keys "foo", "bar"'],
    ['one unknown key', { ...source, clusterurl: 'x' }, 'source: unknown key "clusterurl"'],
    ['wrong type names the field', { ...source, namespace: 5 }, 'source.namespace: expected string, got number'],
    ['app is required', { cluster_url: source.cluster_url, token: 'x' }, 'source.app: is required'],
    [
      'app must be a DNS-1035 label',
      { ...source, app: 'Web_1' },
      'source.app: not a valid app name (a DNS-1035 label: lowercase letters, digits and -, starting with a letter)',
    ],
    [
      'http only for loopback',
      { ...source, cluster_url: 'http://k8s.example.com' },
      'source.cluster_url: must be an https:// URL (http:// is allowed only for a loopback address)',
    ],
    [
      'cluster_url must be a URL',
      { ...source, cluster_url: 'not a url' },
      'source.cluster_url: not a URL (expected https://HOST[:PORT])',
    ],
    [
      'cluster_url required without kubeconfig',
      { app: 'web', token: 'x' },
      'source.cluster_url: is required (or give source.kubeconfig)',
    ],
    [
      'no credentials',
      { app: 'web', cluster_url: source.cluster_url },
      'source: no credentials: give token, admin_cert and admin_key, or kubeconfig',
    ],
    [
      'cert needs key',
      { app: 'web', cluster_url: source.cluster_url, admin_cert: 'x' },
      'source.admin_key: is required with source.admin_cert',
    ],
    [
      'key needs cert',
      { app: 'web', cluster_url: source.cluster_url, admin_key: 'x' },
      'source.admin_cert: is required with source.admin_key',
    ],
    [
      'token and cert exclude each other',
      { ...source, admin_cert: 'x', admin_key: 'y' },
      'source.token: cannot be combined with source.admin_cert/admin_key (give one way to authenticate)',
    ],
    [
      'kubeconfig excludes cluster_url',
      { app: 'web', kubeconfig: 'x', cluster_url: source.cluster_url },
      'source.cluster_url: cannot be combined with source.kubeconfig (give one or the other)',
    ],
    ['context needs kubeconfig', { ...source, context: 'c' }, 'source.context: needs source.kubeconfig'],
    ['empty token', { ...source, token: '' }, 'source.token: must not be empty'],
    [
      'insecure flag must be boolean',
      { ...source, insecure_skip_tls_verify: 'yes' },
      'source.insecure_skip_tls_verify: expected boolean, got string',
    ],
    ['history_limit range', { ...source, history_limit: 0 }, 'source.history_limit: must be at least 1'],
    [
      'namespace name rules',
      { ...source, namespace: 'Prod' },
      'source.namespace: not a valid namespace name (lowercase letters, digits and -, at most 63)',
    ],
    [
      'request_timeout is a duration',
      { ...source, request_timeout: '30' },
      'source.request_timeout: not a duration between 1ms and 1h (e.g. "30s")',
    ],
    [
      'request_timeout at most 1h',
      { ...source, request_timeout: '2h' },
      'source.request_timeout: not a duration between 1ms and 1h (e.g. "30s")',
    ],
    [
      'request_timeout is a string',
      { ...source, request_timeout: 30 },
      'source.request_timeout: expected string, got number',
    ],
    ['in_cluster is a boolean', { ...source, in_cluster: 'yes' }, 'source.in_cluster: expected boolean, got string'],
    [
      'in_cluster excludes a token',
      { app: 'web', in_cluster: true, token: 'x' },
      "source.token: cannot be combined with source.in_cluster (the Pod's ServiceAccount is used)",
    ],
    [
      'in_cluster excludes cluster_url and kubeconfig',
      { app: 'web', in_cluster: true, cluster_url: source.cluster_url, kubeconfig: 'x' },
      "source.cluster_url: cannot be combined with source.in_cluster (the Pod's ServiceAccount is used); " +
        "source.kubeconfig: cannot be combined with source.in_cluster (the Pod's ServiceAccount is used)",
    ],
  ])('%s', (_name, src, message) => {
    expect(messageOf(() => parseCheckRequest({ source: src }))).toBe(message);
  });

  test('defaults', () => {
    const { source: parsed } = parseCheckRequest({ source });
    expect(parsed).toEqual({ ...source, insecure_skip_tls_verify: false, history_limit: 10 });
  });

  test("the namespace: as given; else the Pod's own with in_cluster (read from the mount later); else default", () => {
    const parsed = (src: Record<string, unknown>): Source => parseCheckRequest({ source: src }).source;
    expect(namespaceOfSource(parsed({ ...source, namespace: 'staging' }))).toEqual({ name: 'staging' });
    expect(namespaceOfSource(parsed(source))).toEqual({ name: 'default' });
    expect(namespaceOfSource(parsed({ ...source, in_cluster: false }))).toEqual({ name: 'default' });
    expect(namespaceOfSource(parsed({ app: 'web', in_cluster: true }))).toEqual({ podNamespace: true });
    expect(namespaceOfSource(parsed({ app: 'web', in_cluster: true, namespace: 'staging' }))).toEqual({
      name: 'staging',
    });
  });

  test('in_cluster alone is a complete source; request_timeout takes a duration', () => {
    const inCluster = parseCheckRequest({ source: { app: 'web', in_cluster: true } }).source;
    expect(inCluster).toMatchObject({ in_cluster: true });
    expect(inCluster.namespace).toBeUndefined();
    expect(parseCheckRequest({ source: { ...source, request_timeout: '1m30s' } }).source.request_timeout).toBe('1m30s');
    expect(parseCheckRequest({ source: { ...source, in_cluster: false } }).source.token).toBe('abc');
  });

  test('a secret value is never part of a message', () => {
    const secret = 'SUPER-SECRET-TOKEN-VALUE';
    const message = messageOf(() =>
      parseCheckRequest({ source: { ...source, token: secret, admin_cert: secret, admin_key: 5 } }),
    );
    expect(message).not.toContain(secret);
  });
});

describe('request shape', () => {
  test.each<[string, () => unknown, string]>([
    ['not an object', () => parseCheckRequest('x'), 'request: expected an object, got string'],
    ['null', () => parseCheckRequest(null), 'request: expected an object, got null'],
    ['array', () => parseCheckRequest([]), 'request: expected an object, got array'],
    ['unknown top-level key', () => parseCheckRequest({ source, extra: 1 }), 'request: unknown key "extra"'],
    ['source missing', () => parseCheckRequest({}), 'source: is required'],
    ['in needs a version', () => parseInRequest({ source }), 'version: is required'],
    [
      'version fields',
      () => parseInRequest({ source, version: { app: 'web' } }),
      'version.namespace: is required; version.revision: is required; version.image: is required',
    ],
    [
      'version revision digits',
      () => parseInRequest({ source, version: { ...version, revision: 'one' } }),
      'version.revision: must be a string of digits',
    ],
    [
      'version namespace is a namespace name',
      () => parseInRequest({ source, version: { ...version, namespace: 'NOT VALID/..' } }),
      'version.namespace: not a valid namespace name (lowercase letters, digits and -, at most 63)',
    ],
    [
      'version app is an app name',
      () => parseInRequest({ source, version: { ...version, app: '../x' } }),
      'version.app: not a valid app name',
    ],
    [
      'version unknown key',
      () => parseInRequest({ source, version: { ...version, ref: 'x' } }),
      'version: unknown key "ref"',
    ],
    [
      'in params are strict',
      () => parseInRequest({ source, version, params: { skip: true } }),
      'params: unknown key "skip"',
    ],
  ])('%s', (_name, fn, message) => {
    expect(messageOf(fn)).toBe(message);
  });

  test('check accepts a null version and in accepts null params', () => {
    expect(parseCheckRequest({ source, version: null }).version).toBeNull();
    expect(parseInRequest({ source, version, params: null })).toEqual({
      source: parseCheckRequest({ source }).source,
      version,
    });
  });
});

describe('out params', () => {
  const out = (params: unknown) => parseOutRequest({ source, params });
  test.each<[string, unknown, string]>([
    [
      'image or image_ref required',
      {},
      'params: give params.image (a registry-image get directory) or params.image_ref (unless params.delete is ' +
        'true or params.revision is given)',
    ],
    ['revision is digits', { revision: 'v3' }, 'params.revision: must be a string of digits'],
    [
      'revision or revision_file',
      { revision: '3', revision_file: 'get/revision' },
      'params.revision_file: cannot be combined with params.revision',
    ],
    [
      'revision_file stays inside',
      { revision_file: '../revision' },
      'params.revision_file: must be a path relative to the sources directory, without ..',
    ],
    [
      'revision not with delete',
      { delete: true, revision: '3' },
      'params.revision: cannot be combined with params.delete: true',
    ],
    [
      'dry_run not with delete',
      { delete: true, dry_run: true },
      'params.dry_run: cannot be combined with params.delete: true',
    ],
    ['on_failure enum', { image_ref: 'x:1', on_failure: 'undo' }, 'params.on_failure: must be keep or rollback'],
    [
      'on_failure rollback needs wait',
      { image_ref: 'x:1', on_failure: 'rollback', wait: false },
      'params.on_failure: rollback needs params.wait: true (a rollback follows a failed rollout)',
    ],
    ['prune boolean', { image_ref: 'x:1', prune: 'no' }, 'params.prune: expected boolean, got string'],
    [
      'not both',
      { image: 'img', image_ref: 'nginx:1' },
      'params.image_ref: cannot be combined with params.image (give one)',
    ],
    [
      'paths stay inside the sources dir',
      { image: '../img' },
      'params.image: must be a path relative to the sources directory, without ..',
    ],
    [
      'absolute paths refused',
      { image_ref: 'x:1', manifests: ['/etc/passwd'] },
      'params.manifests[0]: must be a path relative to the sources directory, without ..',
    ],
    ['unknown param', { image_ref: 'x:1', replica: 2 }, 'params: unknown key "replica"'],
    [
      'replicas whole',
      { image_ref: 'x:1', replicas: 1.5 },
      'params.replicas: must be a whole number from 0 to 1000, or auto',
    ],
    [
      'replicas word',
      { image_ref: 'x:1', replicas: 'many' },
      'params.replicas: must be a whole number from 0 to 1000, or auto',
    ],
    [
      'env reference with an unknown key',
      { image_ref: 'x:1', env: { DB: { secret: 'db', key: 'password', field: 'x' } } },
      'params.env.DB: unknown key "field"',
    ],
    [
      'env reference without a key',
      { image_ref: 'x:1', env: { DB: { config_map: 'web' } } },
      'params.env.DB: expected a string, { secret: NAME, key: KEY } or { config_map: NAME, key: KEY } ' +
        '(optional: true allowed)',
    ],
    [
      'env_from entry naming neither',
      { image_ref: 'x:1', env_from: [{ prefix: 'X_' }] },
      'params.env_from[0]: expected { secret: NAME } or { config_map: NAME } (prefix and optional allowed)',
    ],
    [
      'image_pull_secrets name',
      { image_ref: 'x:1', image_pull_secrets: ['Registry'] },
      'params.image_pull_secrets[0]: not a valid object name (lowercase letters, digits, - and .)',
    ],
    [
      'service_account name',
      { image_ref: 'x:1', service_account: 'web_sa' },
      'params.service_account: not a valid object name (lowercase letters, digits, - and .)',
    ],
    [
      'image_pull_secrets bound',
      { image_ref: 'x:1', image_pull_secrets: Array.from({ length: 21 }, (_, i) => `s${i}`) },
      'params.image_pull_secrets: at most 20',
    ],
    [
      'patches outside the sources dir',
      { image_ref: 'x:1', patches: ['../patch.yml'] },
      'params.patches[0]: must be a path relative to the sources directory, without ..',
    ],
    ['port range', { image_ref: 'x:1', port: 70000 }, 'params.port: must be between 1 and 65535'],
    ['mode enum', { image_ref: 'x:1', mode: 'replace' }, 'params.mode: must be apply or create'],
    [
      'security_context enum',
      { image_ref: 'x:1', security_context: 'privileged' },
      'params.security_context: must be baseline or restricted',
    ],
    [
      'timeout duration',
      { image_ref: 'x:1', timeout: '5 minutes' },
      'params.timeout: not a duration between 1s and 24h (e.g. "90s", "5m", "1h")',
    ],
    [
      'env names',
      { image_ref: 'x:1', env: { 'A B': 'x' } },
      'params.env["A B"]: not a valid environment variable name',
    ],
    ['label values', { image_ref: 'x:1', labels: { team: 'a b' } }, 'params.labels.team: not a valid label value'],
    [
      'quantities',
      { image_ref: 'x:1', resources: { limits: { cpu: 'lots' } } },
      'params.resources.limits.cpu: not a Kubernetes quantity (e.g. "250m", "128Mi")',
    ],
    ['resources strict', { image_ref: 'x:1', resources: { limit: {} } }, 'params.resources: unknown key "limit"'],
    ['readiness path', { image_ref: 'x:1', readiness_path: 'healthz' }, 'params.readiness_path: must start with /'],
    [
      'host name',
      { image_ref: 'x:1', host: 'Not A Host' },
      'params.host: not a valid host name (lowercase DNS name; ${BUILD_NAME} and similar are expanded)',
    ],
    ['tls needs host', { image_ref: 'x:1', tls_secret: 'cert' }, 'params.tls_secret: needs params.host'],
    [
      'namespace and namespace_file',
      { image_ref: 'x:1', namespace: 'a', namespace_file: 'ns' },
      'params.namespace_file: cannot be combined with params.namespace',
    ],
    [
      'delete_namespace needs delete',
      { image_ref: 'x:1', delete_namespace: true },
      'params.delete_namespace: needs params.delete: true',
    ],
    [
      'keep_volumes needs delete',
      { image_ref: 'x:1', keep_volumes: true },
      'params.keep_volumes: needs params.delete: true',
    ],
    [
      'keep_volumes is a boolean',
      { delete: true, keep_volumes: 'yes' },
      'params.keep_volumes: expected boolean, got string',
    ],
    ['image_ref without spaces', { image_ref: 'nginx 1' }, 'params.image_ref: must not contain white space'],
  ])('%s', (_name, params, message) => {
    expect(messageOf(() => out(params))).toBe(message);
  });

  test('delete needs no image; placeholders are allowed in namespace and host', () => {
    expect(out({ delete: true }).params.delete).toBe(true);
    expect(out({ delete: true, keep_volumes: true }).params.keep_volumes).toBe(true);
    expect(
      out({ image_ref: 'x:1', namespace: 'staging-${BUILD_NAME}', host: 'web-${BUILD_NAME}.staging.local' }).params
        .namespace,
    ).toBe('staging-${BUILD_NAME}');
  });

  test('defaults', () => {
    expect(out({ image_ref: 'x:1' }).params).toEqual({
      image_ref: 'x:1',
      create_namespace: false,
      replicas: 1,
      port: 8080,
      service_port: 80,
      env: {},
      env_from: [],
      image_pull_secrets: [],
      patches: [],
      labels: {},
      annotations: {},
      path: '/',
      ingress_annotations: {},
      manifests: [],
      mode: 'apply',
      wait: true,
      timeout: '5m',
      delete: false,
      delete_namespace: false,
      prune: true,
      on_failure: 'keep',
      dry_run: false,
      keep_volumes: false,
      restart: false,
      security_context: 'baseline',
    });
  });

  test('env values given as numbers or booleans become strings', () => {
    expect(out({ image_ref: 'x:1', env: { PORT: 8080, DEBUG: true } }).params.env).toEqual({
      PORT: '8080',
      DEBUG: 'true',
    });
  });
});

describe('put plan', () => {
  const env = { BUILD_NAME: '42' };
  const plan = (params: unknown) => planPut({ source, params }, env);

  test('a deploy: camelCase fields, parsed timeout and image reference, build variables expanded', () => {
    const p = plan({
      image_ref: 'registry.local/web:1.2',
      namespace: 'staging-${BUILD_NAME}',
      host: 'web-${BUILD_NAME}.local',
      timeout: '90s',
      service_port: 81,
    });
    expect(p).toMatchObject({
      action: 'deploy',
      namespace: { name: 'staging-42' },
      timeoutMs: 90_000,
      image: { ref: { repository: 'registry.local/web', tag: '1.2' } },
      render: { host: 'web-42.local', servicePort: 81, replicas: 1, path: '/' },
      prune: true,
      onFailure: 'keep',
      dryRun: false,
    });
  });

  test('a redeploy takes nothing that shapes the release', () => {
    expect(plan({ revision: '3' })).toMatchObject({ action: 'redeploy', revision: { number: 3 } });
    expect(plan({ revision_file: 'get/revision' })).toMatchObject({
      action: 'redeploy',
      revision: { file: 'get/revision' },
    });
    expect(messageOf(() => plan({ revision: '3', image_ref: 'x:1', replicas: 2 }))).toBe(
      'params.image_ref, params.replicas: cannot be combined with params.revision (a redeploy takes the image and ' +
        'every object from the recorded revision)',
    );
  });

  test('a teardown', () => {
    expect(plan({ delete: true, delete_namespace: true })).toMatchObject({
      action: 'teardown',
      deleteNamespace: true,
      namespace: { name: 'default' },
    });
  });

  test("the namespace with in_cluster: params, namespace_file and source.namespace win over the Pod's own", () => {
    const inCluster = { app: 'web', in_cluster: true };
    const planOf = (src: Record<string, unknown>, params: Record<string, unknown>) =>
      planPut({ source: src, params }, env);
    expect(planOf(inCluster, { image_ref: 'x:1' })).toMatchObject({ namespace: { podNamespace: true } });
    expect(planOf(inCluster, { delete: true })).toMatchObject({
      action: 'teardown',
      namespace: { podNamespace: true },
    });
    expect(planOf(inCluster, { revision: '2' })).toMatchObject({ namespace: { podNamespace: true } });
    expect(planOf({ ...inCluster, namespace: 'prod' }, { image_ref: 'x:1' })).toMatchObject({
      namespace: { name: 'prod' },
    });
    expect(planOf(inCluster, { image_ref: 'x:1', namespace: 'staging-${BUILD_NAME}' })).toMatchObject({
      namespace: {
        name: 'staging-42',
      },
    });
    expect(planOf(inCluster, { image_ref: 'x:1', namespace_file: 'ns/name' })).toMatchObject({
      namespace: { file: 'ns/name' },
    });
    expect(planOf(source, { image_ref: 'x:1' })).toMatchObject({ namespace: { name: 'default' } });
  });

  test('expanded names are checked again', () => {
    expect(
      messageOf(() =>
        planPut(
          { source, params: { image_ref: 'x:1', namespace: 'staging-${BUILD_NAME}' } },
          { BUILD_NAME: 'Big_One.' },
        ),
      ),
    ).toBe(
      'params.namespace: "staging-big-one-" (after expanding build variables) is not a valid namespace name ' +
        '(lowercase letters, digits and -, at most 63)',
    );
    expect(
      messageOf(() => planPut({ source, params: { image_ref: 'x:1', host: 'web-${BUILD_NAME}.local' } }, {})),
    ).toBe("params.host: ${BUILD_NAME} is not set in this step's environment");
    expect(messageOf(() => plan({ image_ref: 'x:1', namespace: 'ns-${BUILD_URL}' }))).toMatch(
      /^params\.namespace: \$\{BUILD_URL\} is not one of/,
    );
  });

  test('an image reference that does not parse', () => {
    expect(messageOf(() => plan({ image_ref: 'UPPER/case:1' }))).toBe(
      'params.image_ref: not a valid image reference (e.g. registry.example.com/team/app:1.2.3 or …@sha256:…)',
    );
  });
});

describe('sweep params', () => {
  const plan = (params: unknown) => planPut({ source, params }, {});
  test('a sweep plan: the age in ms, keep defaults to 0', () => {
    expect(plan({ sweep: { namespace_prefix: 'staging-', older_than: '24h' } })).toMatchObject({
      action: 'sweep',
      olderThanMs: 86_400_000,
      keep: 0,
      dryRun: false,
    });
    expect(
      plan({ sweep: { namespace_prefix: 'staging-', older_than: '90m', keep: 2 }, dry_run: true, timeout: '20m' }),
    ).toMatchObject({
      action: 'sweep',
      olderThanMs: 5_400_000,
      keep: 2,
      dryRun: true,
      timeoutMs: 1_200_000,
    });
  });
  test.each<[string, unknown, string]>([
    [
      'older_than is a duration',
      { sweep: { namespace_prefix: 'staging-', older_than: 'a day' } },
      'params.sweep.older_than: not a duration between 10m and 8760h (e.g. "24h", "90m")',
    ],
    ['older_than is required', { sweep: { namespace_prefix: 'staging-' } }, 'params.sweep.older_than: is required'],
    [
      'namespace_prefix is required: a sweep names where it may look',
      { sweep: { older_than: '24h' } },
      'params.sweep.namespace_prefix: is required',
    ],
    [
      'namespace_prefix is the start of a namespace name',
      { sweep: { older_than: '24h', namespace_prefix: 'Staging_' } },
      'params.sweep.namespace_prefix: not the start of a namespace name (lowercase letters, digits and -, ' +
        'at most 62, e.g. "staging-")',
    ],
    [
      'keep is whole',
      { sweep: { namespace_prefix: 'staging-', older_than: '1h', keep: -1 } },
      'params.sweep.keep: must be between 0 and 1000',
    ],
    [
      'sweep is strict',
      { sweep: { namespace_prefix: 'staging-', older_than: '1h', namespace: 'x' } },
      'params.sweep: unknown key "namespace"',
    ],
    [
      'only timeout and dry_run go with it',
      { sweep: { namespace_prefix: 'staging-', older_than: '1h' }, image_ref: 'x:1', delete: true },
      'params.image_ref, params.delete: cannot be combined with params.sweep (only timeout and dry_run can)',
    ],
  ])('%s', (_name, params, message) => {
    expect(messageOf(() => plan(params))).toBe(message);
  });
  test('the version of a sweep spans namespaces; "*" is only allowed there', () => {
    expect(
      parseInRequest({ source, version: { app: 'web', namespace: '*', revision: '0', image: '', deleted: 'true' } })
        .version.namespace,
    ).toBe('*');
    expect(
      messageOf(() => parseInRequest({ source, version: { app: 'web', namespace: '*', revision: '0', image: '' } })),
    ).toBe('version.namespace: "*" only in the version of a sweep (with deleted: "true")');
  });
});

describe('bounds on the numbers of a put (issue 23, item 6)', () => {
  const plan = (params: unknown) => planPut({ source, params }, {});
  test.each<[string, unknown, string]>([
    [
      'timeout above Node timers (2^31-1 ms) would fire at once',
      { image_ref: 'x:1', timeout: '597h' },
      'params.timeout: not a duration between 1s and 24h (e.g. "90s", "5m", "1h")',
    ],
    [
      'a 400-digit timeout is not Infinity',
      { image_ref: 'x:1', timeout: `${'9'.repeat(400)}s` },
      'params.timeout: not a duration between 1s and 24h (e.g. "90s", "5m", "1h")',
    ],
    [
      'timeout below a second',
      { image_ref: 'x:1', timeout: '500ms' },
      'params.timeout: not a duration between 1s and 24h (e.g. "90s", "5m", "1h")',
    ],
    [
      'older_than below ten minutes sweeps builds still running',
      { sweep: { namespace_prefix: 'staging-', older_than: '1ms' } },
      'params.sweep.older_than: not a duration between 10m and 8760h (e.g. "24h", "90m")',
    ],
    [
      'older_than beyond a year',
      { sweep: { namespace_prefix: 'staging-', older_than: '8761h' } },
      'params.sweep.older_than: not a duration between 10m and 8760h (e.g. "24h", "90m")',
    ],
    [
      'keep at most 1000',
      { sweep: { namespace_prefix: 'staging-', older_than: '1h', keep: 1001 } },
      'params.sweep.keep: must be between 0 and 1000',
    ],
    ['revision 0 names no release', { revision: '0' }, 'params.revision: must be a revision between 1 and 999999999'],
    [
      'a huge revision would make a name like kdr-release.web.v1e+30',
      { revision: '1'.padEnd(31, '0') },
      'params.revision: must be a revision between 1 and 999999999',
    ],
  ])('%s', (_name, params, message) => {
    expect(messageOf(() => plan(params))).toBe(message);
  });

  test('the bounds themselves are accepted', () => {
    expect(plan({ image_ref: 'x:1', timeout: '24h' })).toMatchObject({ timeoutMs: 86_400_000 });
    expect(plan({ image_ref: 'x:1', timeout: '1s' })).toMatchObject({ timeoutMs: 1000 });
    expect(plan({ sweep: { namespace_prefix: 'staging-', older_than: '10m', keep: 1000 } })).toMatchObject({
      olderThanMs: 600_000,
      keep: 1000,
    });
    expect(plan({ revision: '999999999' })).toMatchObject({ revision: { number: 999_999_999 } });
  });
});
