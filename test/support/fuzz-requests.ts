// Generators of malformed requests for the fuzz suite (test/contract/fuzz.test.ts). Each category starts from a
// request that would be valid (and would therefore reach the cluster) and breaks it in one way the scripts must refuse
// before any network call. The shapes follow src/request/schemas.ts; nothing here imports the code under test, so a
// generator that produces a valid request shows up as a cluster connection, not as a silently skipped case.
import fc from 'fast-check';
import { loadAll } from 'js-yaml';
import { fakePem, type TestPki } from './pki.js';
import type { ScriptName } from './run-script.js';

export interface FuzzCase {
  category: string;
  /** Exactly what goes to stdin. `@ID@` is replaced by a per-case id (used in generated file names). */
  stdin: string;
  /** `none`: no $1 at all; `dir`: the sources dir (out) or a fresh destination dir (in). */
  dir: 'dir' | 'none';
  env?: Record<string, string>;
  /** Files to write under the sources dir before the run (names may hold `@ID@`). */
  files?: Record<string, string>;
  expectCode: 2 | 3;
  /** A finer label within the category, for the report. */
  detail?: string;
}

export interface Canaries {
  token: string;
  key: string;
  cert: string;
  kubeconfig: string;
  manifest: string;
}

export interface FuzzContext {
  /** The counting server: any request that slips through validation shows up there. */
  url: string;
  pki: TestPki;
  canary: Canaries;
  /** Absolute path of a directory next to (outside) the sources dir, holding valid image/ns/manifest files. */
  outsideDir: string;
}

/** A case that depends on its index in the sample: variant `index % variants` (see `Category`). */
export type Indexed<T> = (index: number) => T;

/**
 * `count` cases drawn from `arb`. Where a category lists variants, the arbitrary yields an `Indexed` case and the
 * sample index picks the variant, so a count of at least the number of variants covers every one of them (the
 * values inside each variant stay random).
 */
export interface Category {
  name: string;
  count: number;
  arb: fc.Arbitrary<FuzzCase | Indexed<FuzzCase>>;
}

const each = <T>(arb: fc.Arbitrary<Indexed<T>>, wrap: (t: T) => FuzzCase): fc.Arbitrary<Indexed<FuzzCase>> =>
  arb.map((f) => (index: number) => wrap(f(index)));

export const MiB = 1024 * 1024;
const b64 = (text: string) => Buffer.from(text).toString('base64');
type Json = Record<string, unknown>;

/** A copy of `obj` with `key` set as an own enumerable property (works for "__proto__" too). */
export function withKey(obj: Json, key: string, value: unknown): Json {
  const copy: Json = {};
  for (const [k, v] of Object.entries(obj))
    Object.defineProperty(copy, k, { value: v, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}
export function withoutKeys(obj: Json, ...keys: string[]): Json {
  const copy: Json = { ...obj };
  for (const k of keys) delete copy[k];
  return copy;
}

// ---------- small pieces ----------

const label = fc.stringMatching(/^[a-z][a-z0-9]{0,9}$/);
const appName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/);
const digits = fc.integer({ min: 1, max: 99_999 }).map(String);
const validDurations = fc.constantFrom('90s', '5m', '1h30m', '1s', '2m30s');
const validImageRef = fc.constantFrom(
  'registry.example.com/web:1.0.0',
  'nginx:1.27',
  `ghcr.io/team/app@sha256:${'a'.repeat(64)}`,
  'localhost:5000/x/y:latest',
);

/** Values of every JSON type but the one a field takes. */
const anyString = fc.string({ maxLength: 12 });
const wrongFor = {
  string: fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(anyString, { maxLength: 2 }),
    fc.dictionary(label, anyString, { maxKeys: 2 }),
  ),
  boolean: fc.oneof(
    fc.constantFrom('true', 'false', 'yes', '1', ''),
    fc.integer({ min: 0, max: 1 }),
    fc.constant(null),
    fc.constant([]),
    fc.constant({}),
  ),
  int: fc.oneof(
    fc.integer().map(String),
    fc.boolean(),
    fc.constant(null),
    fc.constant([1]),
    fc.constant({}),
    fc.double({ min: 1.01, max: 99.99, noNaN: true }).filter((d) => !Number.isInteger(d)),
  ),
  record: fc.oneof(anyString, fc.integer(), fc.boolean(), fc.constant(null), fc.array(anyString, { maxLength: 2 })),
  array: fc.oneof(
    anyString,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.dictionary(label, anyString, { minKeys: 1, maxKeys: 2 }),
    fc.array(fc.oneof(fc.integer(), fc.boolean(), fc.constant(null)), { minLength: 1, maxLength: 3 }),
  ),
  object: fc.oneof(anyString, fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 })),
} as const;
type FieldType = keyof typeof wrongFor;

/** A key that is not one of `known`: typos, prototype names, unicode, the empty string. */
function unknownKey(known: readonly string[]): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.constantFrom(
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        '',
        ' ',
        'Source',
        'params ',
        'cluster-url',
        'clusterUrl',
        'Token',
        'imageRef',
        'namepsace',
        'replica',
        'timout',
        'manifest',
        'APP',
        'insecure_skip_tls',
        'ca',
        'kubeConfig',
        'versions',
        'ßource',
        '\u0000',
        'a.b',
        'metadata',
      ),
      fc.string({ minLength: 1, maxLength: 16 }),
    )
    .filter((k) => !known.includes(k));
}

// ---------- valid bases ----------

export interface KubeconfigOptions {
  /** null: no current-context line. */
  currentContext?: string | null;
  contextName?: string;
  withServer?: boolean;
  /** The user's lines instead of `token: TOKEN` (each indented by the caller's four spaces). */
  user?: string[];
  caData?: string;
}

export function kubeconfigText(server: string, token: string, opts: KubeconfigOptions = {}): string {
  const current = opts.currentContext === undefined ? 'ctx' : opts.currentContext;
  return [
    'apiVersion: v1',
    'kind: Config',
    ...(current === null ? [] : [`current-context: ${current}`]),
    'clusters:',
    '- name: c',
    '  cluster:',
    ...(opts.withServer === false ? [] : [`    server: "${server}"`]),
    opts.caData === undefined ? '    insecure-skip-tls-verify: true' : `    certificate-authority-data: ${opts.caData}`,
    'users:',
    '- name: u',
    '  user:',
    ...(opts.user ?? [`token: ${token}`]).map((line) => `    ${line}`),
    'contexts:',
    `- name: ${opts.contextName ?? 'ctx'}`,
    '  context: {cluster: c, user: u}',
    '',
  ].join('\n');
}

type AuthKind = 'token' | 'cert' | 'kubeconfig';
const sourceKeys = [
  'cluster_url',
  'cluster_ca',
  'admin_cert',
  'admin_key',
  'token',
  'kubeconfig',
  'context',
  'insecure_skip_tls_verify',
  'namespace',
  'app',
  'history_limit',
  'in_cluster',
  'request_timeout',
] as const;
const sourceTypes: Record<(typeof sourceKeys)[number], FieldType> = {
  cluster_url: 'string',
  cluster_ca: 'string',
  admin_cert: 'string',
  admin_key: 'string',
  token: 'string',
  kubeconfig: 'string',
  context: 'string',
  insecure_skip_tls_verify: 'boolean',
  namespace: 'string',
  app: 'string',
  history_limit: 'int',
  in_cluster: 'boolean',
  request_timeout: 'string',
};

/** A valid source with the given (or any) way to authenticate. Target namespaces never start with "other-". */
function validSource(ctx: FuzzContext, only?: AuthKind): fc.Arbitrary<Json> {
  const { pki, canary } = ctx;
  const pem = (text: string) => fc.constantFrom(text, b64(text));
  const auths: Record<AuthKind, fc.Arbitrary<Json>> = {
    token: fc.constant({ cluster_url: ctx.url, token: canary.token }),
    cert: fc.record({
      cluster_url: fc.constant(ctx.url),
      admin_cert: pem(pki.clientCert),
      admin_key: pem(pki.clientKey),
    }),
    kubeconfig: fc.constant({ kubeconfig: kubeconfigText(ctx.url, canary.kubeconfig) }),
  };
  const auth = only ? auths[only] : fc.oneof(auths.token, auths.cert, auths.kubeconfig);
  const extras = fc.record(
    {
      namespace: label.map((l) => `ns-${l}`),
      insecure_skip_tls_verify: fc.boolean(),
      history_limit: fc.integer({ min: 1, max: 100 }),
      request_timeout: fc.constantFrom('30s', '5s', '1m', '500ms', '1h'),
      in_cluster: fc.constant(false),
    },
    { requiredKeys: [] },
  );
  return fc.tuple(auth, appName, extras, fc.boolean()).map(([a, app, extra, ca]) => ({
    ...a,
    ...(ca && a.kubeconfig === undefined ? { cluster_ca: b64(pki.caCert) } : {}),
    app,
    ...extra,
  }));
}

const validVersion = fc.record({
  app: appName,
  namespace: label.map((l) => `ns-${l}`),
  revision: digits,
  image: fc.constantFrom('', 'registry.example.com/web@sha256:' + 'b'.repeat(64)),
});

const outParamKeys = [
  'image',
  'image_ref',
  'namespace',
  'namespace_file',
  'create_namespace',
  'replicas',
  'port',
  'service_port',
  'env',
  'args',
  'labels',
  'annotations',
  'resources',
  'readiness_path',
  'host',
  'path',
  'ingress_class',
  'tls_secret',
  'ingress_annotations',
  'manifests',
  'mode',
  'wait',
  'timeout',
  'delete',
  'delete_namespace',
  'prune',
  'on_failure',
  'revision',
  'revision_file',
  'dry_run',
  'sweep',
  'security_context',
  'env_from',
  'image_pull_secrets',
  'service_account',
  'patches',
  'restart',
] as const;
const outParamTypes: Record<(typeof outParamKeys)[number], FieldType> = {
  image: 'string',
  image_ref: 'string',
  namespace: 'string',
  namespace_file: 'string',
  create_namespace: 'boolean',
  replicas: 'int',
  port: 'int',
  service_port: 'int',
  env: 'record',
  args: 'array',
  labels: 'record',
  annotations: 'record',
  resources: 'object',
  readiness_path: 'string',
  host: 'string',
  path: 'string',
  ingress_class: 'string',
  tls_secret: 'string',
  ingress_annotations: 'record',
  manifests: 'array',
  mode: 'string',
  wait: 'boolean',
  timeout: 'string',
  delete: 'boolean',
  delete_namespace: 'boolean',
  prune: 'boolean',
  on_failure: 'string',
  revision: 'string',
  revision_file: 'string',
  dry_run: 'boolean',
  sweep: 'object',
  security_context: 'string',
  env_from: 'array',
  image_pull_secrets: 'array',
  service_account: 'string',
  patches: 'array',
  restart: 'boolean',
};

/** Valid params of a put that deploys (reads image dir, namespace file and manifests before connecting). */
const deployParams: fc.Arbitrary<Json> = fc
  .tuple(
    fc.oneof(
      validImageRef.map((image_ref) => ({ image_ref })),
      fc.constant({ image: 'img' }),
      fc.constant({ image: 'img-notag' }),
    ),
    fc.record(
      {
        namespace: label.map((l) => `ns-${l}`),
        replicas: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant('auto')),
        port: fc.integer({ min: 1, max: 65535 }),
        image_pull_secrets: fc.array(label, { maxLength: 2 }),
        service_account: label,
        env_from: fc.array(
          fc.oneof(
            label.map((secret) => ({ secret })),
            label.map((config_map) => ({ config_map, prefix: 'P_', optional: true })),
          ),
          { maxLength: 2 },
        ),
        timeout: validDurations,
        host: label.map((l) => `${l}.example.com`),
        manifests: fc.constantFrom(['manifests/good.yml'], ['manifests/*.yml'], []),
        mode: fc.constantFrom('apply', 'create'),
        security_context: fc.constantFrom('baseline', 'restricted'),
        wait: fc.boolean(),
        env: fc.dictionary(
          fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/),
          fc.oneof(
            anyString,
            fc.integer(),
            fc.boolean(),
            label.map((secret) => ({ secret, key: 'password' })),
            label.map((config_map) => ({ config_map, key: 'LOG_LEVEL', optional: false })),
          ),
          { maxKeys: 3 },
        ),
        labels: fc.dictionary(label, label, { maxKeys: 2 }),
        create_namespace: fc.boolean(),
        prune: fc.boolean(),
        dry_run: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
  )
  .map(([image, rest]) => ({ ...image, ...rest }));
const deleteParams: fc.Arbitrary<Json> = fc.record(
  {
    delete: fc.constant(true),
    delete_namespace: fc.boolean(),
    namespace: label.map((l) => `ns-${l}`),
    timeout: validDurations,
  },
  { requiredKeys: ['delete'] },
);
const anyOutParams = fc.oneof({ arbitrary: deployParams, weight: 3 }, { arbitrary: deleteParams, weight: 1 });

function validRequest(ctx: FuzzContext, script: ScriptName, only?: AuthKind): fc.Arbitrary<Json> {
  const source = validSource(ctx, only);
  switch (script) {
    case 'check':
      return fc
        .tuple(source, fc.option(validVersion, { nil: undefined }), fc.boolean())
        .map(([s, v, nullVersion]) => ({ source: s, ...(v ? { version: v } : nullVersion ? { version: null } : {}) }));
    case 'in':
      return fc
        .tuple(source, validVersion, fc.constantFrom(undefined, null, {}))
        .map(([s, v, p]) => ({ source: s, version: v, ...(p === undefined ? {} : { params: p }) }));
    case 'out':
      return fc.tuple(source, anyOutParams).map(([s, p]) => ({ source: s, params: p }));
  }
}

const json = (request: unknown, category: string, extra: Partial<FuzzCase> = {}): FuzzCase => ({
  category,
  stdin: JSON.stringify(request),
  dir: 'dir',
  expectCode: 2,
  ...extra,
});

// ---------- categories shared by all scripts ----------

function sharedCategories(ctx: FuzzContext, script: ScriptName): Category[] {
  const base = validRequest(ctx, script);
  const topKeys =
    script === 'check'
      ? ['source', 'version']
      : script === 'in'
        ? ['source', 'version', 'params']
        : ['source', 'params'];
  const required = script === 'check' ? ['source'] : script === 'in' ? ['source', 'version'] : ['source', 'params'];
  const { pki, canary } = ctx;
  const huge = (c: string) =>
    fc.integer({ min: 0, max: 4096 }).map((extra) => c.repeat(Math.ceil((MiB + extra) / c.length)));

  const notJson = fc.oneof(
    fc.constantFrom(
      '{',
      '}',
      '{"source":',
      "{'source': {}}",
      'undefined',
      'NaN',
      '{"source": {"token": "x",}}',
      '[1,]',
      '\u0000',
      '{"a":1}{"b":2}',
      'source: {}',
      `{"source": {"token": "${canary.token}" `,
    ),
    fc.string({ minLength: 1, maxLength: 40 }).filter((t) => t.trim() !== '' && !parses(t)),
    base.chain((r) => {
      const text = JSON.stringify(r);
      return fc.integer({ min: 1, max: text.length - 1 }).map((n) => text.slice(0, n));
    }),
  );

  const sourceWrongType = fc.oneof(
    base.chain((r) => wrongFor.object.map((s) => withKey(r, 'source', s))),
    fc
      .tuple(base, fc.constantFrom(...sourceKeys))
      .chain(([r, key]) =>
        wrongFor[sourceTypes[key]].map((v) => withKey(r, 'source', withKey(r.source as Json, key, v))),
      ),
  );

  const sourceMissing = base.chain((r) => {
    const s = r.source as Json;
    const options: Json[] = [
      withoutKeys(s, 'app'),
      withoutKeys(s, 'cluster_url', 'kubeconfig'),
      withoutKeys(s, 'token', 'admin_cert', 'admin_key', 'kubeconfig'),
    ];
    if (s.admin_cert !== undefined) options.push(withoutKeys(s, 'admin_key'), withoutKeys(s, 'admin_cert'));
    return fc.constantFrom(...options).map((src) => withKey(r, 'source', src));
  });

  const sourceConflict = fc
    .tuple(
      validRequest(ctx, script, 'token'),
      validRequest(ctx, script, 'cert'),
      validRequest(ctx, script, 'kubeconfig'),
    )
    .map(([t, c, k]) => (n: number) => {
      const ts = t.source as Json,
        cs = c.source as Json,
        ks = k.source as Json;
      const variants: Json[] = [
        { ...ks, token: canary.token },
        { ...ks, cluster_url: ctx.url },
        { ...ks, admin_cert: cs.admin_cert, admin_key: cs.admin_key },
        { ...cs, token: canary.token },
        { ...ts, context: 'ctx' },
        { ...ts, cluster_ca: b64(pki.caCert), kubeconfig: ks.kubeconfig },
      ];
      return withKey(t, 'source', variants[n % variants.length]);
    });

  const badUrl = fc
    .oneof(
      fc.constantFrom(
        '',
        'k8s.example.com:6443',
        'http://k8s.example.com:6443',
        'ftp://127.0.0.1/',
        'https//127.0.0.1',
        '://',
        'http://10.0.0.1',
        'http://127.0.0.2:6443',
        'unix:///var/run/k8s.sock',
        'file:///etc/passwd',
        'javascript:alert(1)',
        'https://',
        ' https://127.0.0.1',
        'http://[::2]:1',
      ),
      fc.string({ maxLength: 30 }).filter((u) => !acceptableUrl(u)),
      fc.webUrl({ validSchemes: ['http', 'ws', 'ftp'] }).filter((u) => !acceptableUrl(u)),
    )
    .filter((u) => !acceptableUrl(u));
  const badUrlCat = fc
    .tuple(validRequest(ctx, script, 'token'), badUrl)
    .map(([r, u]) => withKey(r, 'source', { ...(r.source as Json), cluster_url: u }));

  // Credentials that are not what they claim to be: each a one-line error naming the field, exit 2.
  const garbagePem = (labelText: string, body: string) =>
    `-----BEGIN ${labelText}-----\n${body}\n-----END ${labelText}-----\n`;
  const notPem = fc.oneof(
    fc.constantFrom(
      'not base64 at all!',
      '%%%%',
      'ä',
      '-----BEGIN',
      '-----BEGIN CERTIFICATE-----',
      'AAAA',
      '====',
      b64('hello world'),
      b64('{"not": "pem"}'),
      pki.clientCert.slice(0, 200),
      b64(pki.clientCert.slice(0, 300)),
    ),
    fc.string({ minLength: 1, maxLength: 60 }).filter((t) => !t.trim().startsWith('-----BEGIN ') && t.trim() !== ''),
    fc.string({ minLength: 1, maxLength: 60 }).map(b64),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  );
  const badCertValue = fc
    .oneof(
      notPem,
      fc.constantFrom(pki.clientKey, b64(pki.clientKey)).map((v) => v),
      fc.string({ minLength: 1, maxLength: 40 }).map((s) => garbagePem('CERTIFICATE', b64(s))),
      fc.constantFrom(
        garbagePem('CERTIFICATE', 'MIIBkTCB+wIJA=='),
        b64(garbagePem('CERTIFICATE', 'Zm9v')),
        garbagePem('CERTIFICATE', canary.cert),
        b64(garbagePem('CERTIFICATE', canary.cert)),
      ),
    )
    .filter((v) => v !== pki.caCert);
  const badKeyValue = fc.oneof(
    notPem.filter((v) => !v.includes('PRIVATE KEY')),
    fc.constantFrom(
      garbagePem('PRIVATE KEY', canary.key),
      b64(garbagePem('PRIVATE KEY', canary.key)),
      garbagePem('RSA PRIVATE KEY', canary.key),
      garbagePem('ENCRYPTED PRIVATE KEY', canary.key),
      pki.clientCert,
      b64(pki.caCert),
    ),
    // A key that does not belong to the certificate.
    fc.constantFrom(pki.otherKey, b64(pki.otherKey), pki.expiredKey, b64(pki.expiredKey)),
  );
  const badCredentials = fc
    .tuple(
      validRequest(ctx, script, 'cert'),
      validRequest(ctx, script, 'token'),
      badCertValue,
      badKeyValue,
      fc.constantFrom(
        ' ',
        '\t',
        `${canary.token} extra`,
        `Bearer ${canary.token}`,
        `${canary.token}\n${canary.token}`,
        '\n',
      ),
    )
    .map(([c, t, cert, key, token]) => (n: number) => {
      const cs = c.source as Json;
      const ts = t.source as Json;
      const variants: Json[] = [
        { ...cs, admin_cert: cert },
        { ...cs, admin_key: key },
        { ...cs, cluster_ca: cert },
        { ...ts, cluster_ca: cert },
        { ...cs, admin_cert: b64(pki.expiredCert), admin_key: b64(pki.clientKey) },
        { ...cs, admin_cert: pki.caCert, admin_key: pki.clientKey },
        { ...ts, token },
        { ...cs, admin_key: key, cluster_ca: b64(pki.caCert) },
      ];
      return withKey(c, 'source', variants[n % variants.length]);
    });

  const expired = validRequest(ctx, script, 'cert').chain((r) =>
    fc.tuple(fc.boolean(), fc.boolean()).map(([encoded, ca]) =>
      withKey(r, 'source', {
        ...(r.source as Json),
        admin_cert: encoded ? b64(pki.expiredCert) : pki.expiredCert,
        admin_key: encoded ? b64(pki.expiredKey) : pki.expiredKey,
        ...(ca ? { cluster_ca: b64(pki.caCert) } : {}),
      }),
    ),
  );

  // Structurally wrong kubeconfigs (the YAML level; the credentials embedded in one follow below).
  const badKubeconfig = fc
    .tuple(validRequest(ctx, script, 'kubeconfig'), fc.string({ minLength: 1, maxLength: 20 }))
    .map(([r, junk]) => (n: number) => {
      const s = r.source as Json;
      const good = kubeconfigText(ctx.url, canary.kubeconfig);
      const variants: Json[] = [
        { ...s, kubeconfig: good + '\n\t- broken: [unclosed\n' },
        { ...s, kubeconfig: `{{ ${canary.kubeconfig}` },
        { ...s, kubeconfig: `just a string with ${canary.kubeconfig}` },
        { ...s, kubeconfig: `- ${canary.kubeconfig}\n- b\n` },
        { ...s, kubeconfig: kubeconfigText(ctx.url, canary.kubeconfig, { currentContext: null }) },
        { ...s, kubeconfig: kubeconfigText(ctx.url, canary.kubeconfig, { currentContext: 'nope' }) },
        { ...s, kubeconfig: good, context: `missing-${junk}` },
        { ...s, kubeconfig: kubeconfigText(ctx.url, canary.kubeconfig, { withServer: false }) },
        { ...s, kubeconfig: `apiVersion: v1\nusers: [{name: u, user: {token: ${canary.kubeconfig}}}]\n` },
        { ...s, kubeconfig: good.replace('clusters:', `clusters: ${junk.replace(/\n/g, ' ')}\nx: [`) },
      ];
      return withKey(r, 'source', variants[n % variants.length]);
    });

  // Credentials embedded in a kubeconfig get the same checks as the source fields.
  const embedded = fc
    .tuple(
      validRequest(ctx, script, 'kubeconfig'),
      badCertValue,
      badKeyValue.filter((k) => k !== pki.expiredKey && k !== b64(pki.expiredKey)),
    )
    .map(([r, cert, key]) => (n: number) => {
      const s = r.source as Json;
      const data = (v: string) => (v.trim().startsWith('-----BEGIN ') ? b64(v) : v.replace(/[\s"\\]+/g, '') || 'x');
      const user = (certData: string | undefined, keyData: string | undefined) => [
        ...(certData === undefined ? [] : [`client-certificate-data: "${certData}"`]),
        ...(keyData === undefined ? [] : [`client-key-data: "${keyData}"`]),
      ];
      const goodCert = b64(pki.clientCert);
      const goodKey = b64(pki.clientKey);
      const variants: [string, KubeconfigOptions][] = [
        ['key not a key', { user: user(goodCert, data(key)) }],
        ['key of another certificate', { user: user(goodCert, b64(pki.otherKey)) }],
        ['garbage key with canary', { user: user(goodCert, b64(fakePem('PRIVATE KEY', canary.key))) }],
        ['certificate not a certificate', { user: user(data(cert), goodKey) }],
        ['certificate without key', { user: user(goodCert, undefined) }],
        ['key without certificate', { user: [`client-key-data: "${goodKey}"`, `token: ${canary.kubeconfig}`] }],
        ['CA data not a certificate', { caData: data(cert) }],
        [
          'CA data garbage, user fine',
          {
            caData: b64('-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n'),
            user: user(goodCert, goodKey),
          },
        ],
        ['expired certificate with a foreign key', { user: user(b64(pki.expiredCert), goodKey) }],
        ['CA data is a key', { caData: goodKey }],
      ];
      const [detail, opts] = variants[n % variants.length]!;
      return {
        request: withKey(r, 'source', { ...s, kubeconfig: kubeconfigText(ctx.url, canary.kubeconfig, opts) }),
        detail,
      };
    });
  const embeddedExpired = validRequest(ctx, script, 'kubeconfig').map((r) =>
    withKey(r, 'source', {
      ...(r.source as Json),
      kubeconfig: kubeconfigText(ctx.url, '', {
        user: [`client-certificate-data: ${b64(pki.expiredCert)}`, `client-key-data: ${b64(pki.expiredKey)}`],
      }),
    }),
  );

  // About 1 MiB in one field, each value invalid for its field.
  const hugeCat = fc
    .tuple(
      base,
      validRequest(ctx, script, 'token'),
      validRequest(ctx, script, 'cert'),
      huge('a'),
      huge('A'),
      huge(`${canary.token} `),
      huge('Z'),
      huge('['),
    )
    .map(([r, t, c, lower, upper, spaced, zed, brackets]) => (n: number) => {
      const s = r.source as Json;
      const variants: Json[] = [
        withKey(r, 'source', { ...s, app: lower }),
        withKey(r, 'source', { ...s, namespace: upper }),
        withKey(r, 'source', withKey(s, lower, 1)),
        withKey(r, upper, true),
        withKey(t, 'source', { ...(t.source as Json), token: spaced }),
        withKey(t, 'source', { ...(t.source as Json), cluster_ca: zed }),
        withKey(c, 'source', { ...(c.source as Json), admin_key: garbagePem('PRIVATE KEY', `${canary.key}\n${zed}`) }),
        withKey(r, 'source', {
          ...withoutKeys(s, 'cluster_url', 'cluster_ca', 'token', 'admin_cert', 'admin_key'),
          kubeconfig: `${canary.kubeconfig}: ${brackets}`,
        }),
        withKey(r, 'source', { ...s, app: `${lower}é` }),
      ];
      return variants[n % variants.length]!;
    });

  // source.request_timeout that is not a duration between 1ms and 1h.
  const badRequestTimeout = fc
    .tuple(
      base,
      fc.oneof(
        fc.constantFrom('30', '', '0s', '2h', '1h1s', 'soon', '-1s', '1 s', '30S', '1d', '∞'),
        fc.string({ maxLength: 8 }).filter((t) => !/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(t)),
      ),
    )
    .map(([r, timeout]) => withKey(r, 'source', { ...(r.source as Json), request_timeout: timeout }));

  // in_cluster with any other credential; or alone, outside a Pod (no KUBERNETES_SERVICE_HOST) or without the mount.
  const inClusterConflict = fc
    .tuple(
      validRequest(ctx, script, 'token'),
      validRequest(ctx, script, 'cert'),
      validRequest(ctx, script, 'kubeconfig'),
    )
    .map(([t, c, k]) => (n: number) => {
      const ts = t.source as Json,
        cs = c.source as Json,
        ks = k.source as Json;
      const variants: Json[] = [
        { ...ts, in_cluster: true },
        { ...cs, in_cluster: true },
        { ...ks, in_cluster: true },
        { ...withoutKeys(ts, 'token'), in_cluster: true },
        { ...withoutKeys(ts, 'cluster_url'), in_cluster: true },
      ];
      return withKey(t, 'source', variants[n % variants.length]);
    });
  const port = new URL(ctx.url).port;
  const inClusterNoPod = base.map((r) => (n: number) => {
    const alone = {
      ...withoutKeys(
        r.source as Json,
        'cluster_url',
        'cluster_ca',
        'token',
        'admin_cert',
        'admin_key',
        'kubeconfig',
        'context',
      ),
      in_cluster: true,
    };
    // Variables set (pointing at the counting server) but no mount: still refused before any connection.
    const env: Record<string, string>[] = [
      {},
      {
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: port,
        KDR_TEST_SERVICEACCOUNT_ROOT: '/nonexistent/serviceaccount',
      },
      { KUBERNETES_SERVICE_HOST: '127.0.0.1' },
    ];
    const details = ['no KUBERNETES_SERVICE_HOST', 'no ServiceAccount mount', 'no KUBERNETES_SERVICE_PORT'];
    return json(withKey(r, 'source', alone), 'source: in_cluster outside a Pod', {
      env: env[n % 3]!,
      detail: details[n % 3]!,
    });
  });

  // Exec credential plugins that cannot run here: refused before anything is started or sent.
  const badExec = validRequest(ctx, script, 'kubeconfig').map((r) => (n: number) => {
    const v1 = 'client.authentication.k8s.io/v1';
    const variants: [string, string][] = [
      ['interactiveMode Always', `exec: {apiVersion: ${v1}, command: kdr-plugin, interactiveMode: Always}`],
      ['v1 without interactiveMode', `exec: {apiVersion: ${v1}, command: kdr-plugin}`],
      [
        'v1alpha1',
        'exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: kdr-plugin, interactiveMode: Never}',
      ],
      ['no command', `exec: {apiVersion: ${v1}, interactiveMode: Never}`],
      [
        'env not a list of name/value',
        `exec: {apiVersion: ${v1}, command: kdr-plugin, interactiveMode: Never, env: {SECRET: ${canary.kubeconfig}}}`,
      ],
      ['args not strings', `exec: {apiVersion: ${v1}, command: kdr-plugin, interactiveMode: Never, args: [{a: 1}]}`],
      ['interactiveMode unknown', `exec: {apiVersion: ${v1}, command: kdr-plugin, interactiveMode: Sometimes}`],
    ];
    const [detail, line] = variants[n % variants.length]!;
    return {
      request: withKey(r, 'source', {
        ...(r.source as Json),
        kubeconfig: kubeconfigText(ctx.url, canary.kubeconfig, { user: [line] }),
      }),
      detail,
    };
  });

  return [
    {
      name: 'source: bad request_timeout',
      count: 12,
      arb: badRequestTimeout.map((r) => json(r, 'source: bad request_timeout')),
    },
    {
      name: 'source: in_cluster with other credentials',
      count: 5,
      arb: each(inClusterConflict, (r) => json(r, 'source: in_cluster with other credentials')),
    },
    { name: 'source: in_cluster outside a Pod', count: 6, arb: inClusterNoPod },
    {
      name: 'source: exec credential plugin that cannot run here',
      count: 7,
      arb: each(badExec, ({ request, detail }) =>
        json(request, 'source: exec credential plugin that cannot run here', { detail }),
      ),
    },
    {
      name: 'not JSON',
      count: 12,
      arb: notJson.map((text) => ({ category: 'not JSON', stdin: text, dir: 'dir' as const, expectCode: 2 as const })),
    },
    {
      name: 'empty stdin',
      count: 3,
      arb: fc
        .constantFrom('', ' ', '\n\t\n')
        .map((text) => ({ category: 'empty stdin', stdin: text, dir: 'dir' as const, expectCode: 2 as const })),
    },
    {
      name: 'not an object',
      count: 10,
      arb: fc
        .oneof(
          fc.constantFrom(null, true, 0, 'source', [], [{}]),
          fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
        )
        .map((v) => json(v, 'not an object')),
    },
    {
      name: 'unknown top-level key',
      count: 10,
      arb: fc
        .tuple(base, unknownKey(topKeys), fc.jsonValue({ maxDepth: 1 }))
        .map(([r, k, v]) => json(withKey(r, k, v), 'unknown top-level key')),
    },
    {
      name: 'missing top-level key',
      count: 6,
      arb: fc
        .tuple(base, fc.constantFrom(...required))
        .map(([r, k]) => json(withoutKeys(r, k), 'missing top-level key')),
    },
    { name: 'source: wrong type', count: 24, arb: sourceWrongType.map((r) => json(r, 'source: wrong type')) },
    {
      name: 'source: unknown key',
      count: 12,
      arb: fc
        .tuple(base, unknownKey(sourceKeys), fc.jsonValue({ maxDepth: 1 }))
        .map(([r, k, v]) => json(withKey(r, 'source', withKey(r.source as Json, k, v)), 'source: unknown key')),
    },
    { name: 'source: missing key', count: 10, arb: sourceMissing.map((r) => json(r, 'source: missing key')) },
    {
      name: 'source: conflicting credentials',
      count: 6,
      arb: each(sourceConflict, (r) => json(r, 'source: conflicting credentials')),
    },
    { name: 'source: bad cluster_url', count: 10, arb: badUrlCat.map((r) => json(r, 'source: bad cluster_url')) },
    {
      name: 'source: bad values',
      count: 10,
      arb: fc
        .tuple(
          base,
          fc.constantFrom('Web', '1web', 'web_', '-web', 'web-', 'a'.repeat(54), 'wéb', ''),
          fc.constantFrom('Default', 'ns_1', '-ns', 'a'.repeat(64), ''),
          fc.constantFrom(0, 101, -1, 1.5, 1e9),
        )
        .map(([r, app, ns, limit]) => (n: number) => {
          const s = r.source as Json;
          const variants = [
            { ...s, app },
            { ...s, namespace: ns },
            { ...s, history_limit: limit },
            { ...s, context: '' },
            { ...s, token: '' },
            { ...s, cluster_ca: '' },
          ];
          return json(withKey(r, 'source', variants[n % variants.length]), 'source: bad values');
        }),
    },
    {
      name: 'source: bad credentials (base64, PEM, mismatched key)',
      count: 24,
      arb: each(badCredentials, (r) => json(r, 'source: bad credentials (base64, PEM, mismatched key)')),
    },
    {
      name: 'source: expired client certificate',
      count: 4,
      arb: expired.map((r) => json(r, 'source: expired client certificate', { expectCode: 3 })),
    },
    {
      name: 'source: broken kubeconfig',
      count: 10,
      arb: each(badKubeconfig, (r) => json(r, 'source: broken kubeconfig')),
    },
    {
      name: 'source: bad credentials embedded in kubeconfig',
      count: 10,
      arb: each(embedded, ({ request, detail }) =>
        json(request, 'source: bad credentials embedded in kubeconfig', { detail }),
      ),
    },
    {
      name: 'source: expired certificate embedded in kubeconfig',
      count: 2,
      arb: embeddedExpired.map((r) => json(r, 'source: expired certificate embedded in kubeconfig', { expectCode: 3 })),
    },
    { name: 'huge strings (1 MiB)', count: 9, arb: each(hugeCat, (r) => json(r, 'huge strings (1 MiB)')) },
  ];
}

// ---------- version (check, in) ----------

function versionCategories(ctx: FuzzContext, script: 'check' | 'in'): Category[] {
  const base = validRequest(ctx, script).map((r) =>
    r.version ? r : { ...r, version: { app: 'web', namespace: 'ns-a', revision: '1', image: '' } },
  );
  const versionKeys = ['app', 'namespace', 'revision', 'image', 'deleted'] as const;
  // Not a namespace name (DNS-1123 label), and so not an app name (DNS-1035 label) either.
  const badName = fc.constantFrom(
    'NOT VALID/..',
    '../x',
    'Web',
    'ns_1',
    '-x',
    'x-',
    'a'.repeat(64),
    'kube system',
    'é',
    '%2e%2e',
    'a/b',
    '.',
    '',
  );
  const bad = fc
    .tuple(
      base,
      fc.constantFrom(...versionKeys),
      wrongFor.string,
      unknownKey(versionKeys),
      fc.constantFrom('1.0', 'v1', '-1', '', ' 1', '1e3', '0x10', '１'),
      fc.constantFrom('false', 'yes', 'TRUE', '', true, 1),
      badName,
    )
    .map(([r, key, wrong, unknown, revision, deleted, name]) => (n: number) => {
      const v = r.version as Json;
      const variants: unknown[] = [
        withKey(v, key, wrong),
        withKey(v, unknown, 'x'),
        withoutKeys(v, key === 'deleted' ? 'revision' : key),
        { ...v, revision },
        { ...v, deleted },
        { ...v, [key === 'image' || key === 'deleted' || key === 'revision' ? 'app' : key]: '' },
        script === 'check' ? [v] : null,
        { ...v, namespace: name },
        { ...v, app: [name, '1app', 'a'.repeat(54)][Math.floor(n / 9) % 3] },
      ];
      return json(
        withKey(r, 'version', variants[n % variants.length]),
        'version: wrong type, unknown, missing or bad value',
      );
    });
  const wrongVersion = fc
    .tuple(
      base,
      fc.oneof(fc.constantFrom('1', 1, true, [], ['1']), script === 'in' ? fc.constant(null) : fc.constant('x')),
    )
    .map(([r, v]) => json(withKey(r, 'version', v), 'version: not an object'));
  return [
    { name: 'version: wrong type, unknown, missing or bad value', count: 30, arb: bad },
    { name: 'version: not an object', count: 6, arb: wrongVersion },
  ];
}

// ---------- in ----------

export function inCategories(ctx: FuzzContext): Category[] {
  const base = validRequest(ctx, 'in');
  return [
    ...sharedCategories(ctx, 'in'),
    ...versionCategories(ctx, 'in'),
    {
      name: 'params: unknown key or wrong type',
      count: 12,
      arb: fc
        .tuple(
          base,
          unknownKey([]),
          fc.jsonValue({ maxDepth: 1 }),
          fc.constantFrom('x', 1, true, [], [{}], false, 0),
          fc.boolean(),
        )
        .map(([r, k, v, wrong, useKey]) =>
          json(withKey(r, 'params', useKey ? withKey({}, k, v) : wrong), 'params: unknown key or wrong type'),
        ),
    },
    {
      name: 'no destination directory ($1)',
      count: 4,
      arb: base.map((r) => json(r, 'no destination directory ($1)', { dir: 'none' })),
    },
  ];
}

export function checkCategories(ctx: FuzzContext): Category[] {
  return [...sharedCategories(ctx, 'check'), ...versionCategories(ctx, 'check')];
}

// ---------- out ----------

const clusterScopedKinds = [
  ['v1', 'Namespace'],
  ['v1', 'Node'],
  ['v1', 'PersistentVolume'],
  ['storage.k8s.io/v1', 'StorageClass'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding'],
  ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'],
  ['networking.k8s.io/v1', 'IngressClass'],
  ['scheduling.k8s.io/v1', 'PriorityClass'],
  ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration'],
  ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration'],
  ['apiregistration.k8s.io/v1', 'APIService'],
  ['node.k8s.io/v1', 'RuntimeClass'],
  ['storage.k8s.io/v1', 'CSIDriver'],
  ['storage.k8s.io/v1', 'VolumeAttachment'],
  ['certificates.k8s.io/v1', 'CertificateSigningRequest'],
  ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy'],
  ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding'],
  ['flowcontrol.apiserver.k8s.io/v1', 'FlowSchema'],
  ['flowcontrol.apiserver.k8s.io/v1', 'PriorityLevelConfiguration'],
  ['v1', 'ComponentStatus'],
  ['authentication.k8s.io/v1', 'SelfSubjectReview'],
  ['authorization.k8s.io/v1', 'SubjectAccessReview'],
  ['storage.k8s.io/v1', 'CSINode'],
  ['storage.k8s.io/v1beta1', 'VolumeAttributesClass'],
  ['networking.k8s.io/v1', 'IPAddress'],
  ['networking.k8s.io/v1', 'ServiceCIDR'],
  ['certificates.k8s.io/v1beta1', 'ClusterTrustBundle'],
  ['resource.k8s.io/v1', 'DeviceClass'],
] as const;

const yamlDoc = (doc: unknown) => JSON.stringify(doc); // JSON is YAML
const goodConfigMap = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: 'b' } });

/** The content of one manifests file that the put must refuse; `app` and `ns` are the release's. */
function badManifestFile(
  ctx: FuzzContext,
  app: string,
  ns: string,
): fc.Arbitrary<Indexed<{ kind: string; content: string }>> {
  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}[a-z0-9]$/);
  const prefix = fc.constantFrom('', `${yamlDoc(goodConfigMap('first-ok'))}\n---\n`, '---\n# comment\n---\n');
  const invalidYaml = fc
    .oneof(
      fc.constantFrom(
        'key: [unclosed',
        'a: b\n  c: d\n- e',
        '\t- tab',
        '{a: 1',
        "key: 'unterminated",
        '- a\nb: c',
        'a: *nosuchalias',
        'a: b\na: c',
        '%YAML 9.9\n---\na: 1',
        '? [a\n: b',
        'x: "\\q"',
        '!!binary ~~~',
      ),
      fc
        .tuple(fc.string({ maxLength: 30 }), fc.constantFrom('\n\t: [', '\n  - : {', ': : :\n  - ]'))
        .map(([a, b]) => a + b),
    )
    .filter((text) => yamlThrows(text));
  const notObject = fc.oneof(
    fc.constantFrom('just a string', '42', 'true', '[1, 2]', '- a\n- b', '""', "'  '"),
    fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.integer(), { minLength: 1, maxLength: 3 })).map(yamlDoc),
  );
  const broken = fc
    .tuple(name, fc.nat(11), fc.constantFrom('Bad_Name', 'UPPER', '-x', 'x.', 'a'.repeat(254), 'a b', ''))
    .map(([n, k, badName]) => {
      const variants: unknown[] = [
        { kind: 'ConfigMap', metadata: { name: n } },
        { apiVersion: 'v1', metadata: { name: n } },
        { apiVersion: '', kind: 'ConfigMap', metadata: { name: n } },
        { apiVersion: 'v1', kind: 7, metadata: { name: n } },
        { apiVersion: 'v1', kind: 'ConfigMap' },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: `${n}-` } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: 'name' },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: badName } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, labels: { a: 1 } } },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, annotations: 'x' } },
        { apiVersion: 'v1', kind: 'ConfigMapList', items: [goodConfigMap('ok-item'), { kind: 'ConfigMap' }] },
        { apiVersion: 'v1', kind: 'List', items: ['not an object'] },
      ];
      return yamlDoc(variants[k % variants.length]);
    });
  const otherNamespace = fc
    .tuple(name, label, fc.constantFrom('ConfigMap', 'Secret', 'Deployment', 'Service'))
    .map(([n, other, kind]) => {
      const doc: Json = {
        apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1',
        kind,
        metadata: { name: n, namespace: `other-${other}` },
      };
      if (kind === 'Secret') doc.stringData = { password: ctx.canary.manifest };
      return yamlDoc(doc);
    });
  const clusterScoped = fc
    .tuple(name, fc.constantFrom(...clusterScopedKinds), fc.boolean())
    .map(([n, [apiVersion, kind], withNs]) =>
      yamlDoc({ apiVersion, kind, metadata: { name: n, ...(withNs ? { namespace: ns } : {}) } }),
    );
  const duplicate = fc
    .tuple(name, fc.boolean())
    .map(([n, release]) =>
      release
        ? yamlDoc({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: app } })
        : `${yamlDoc(goodConfigMap(n))}\n---\n` +
          `${yamlDoc({ ...goodConfigMap(n), data: { password: ctx.canary.manifest } })}`,
    );
  const kinds = [
    'invalid YAML',
    'not an object',
    'not a Kubernetes object',
    'another namespace',
    'cluster-scoped kind',
    'defined twice',
  ];
  return fc
    .tuple(prefix, invalidYaml, notObject, broken, otherNamespace, clusterScoped, duplicate)
    .map(([p, ...bodies]) => (n: number) => ({
      kind: kinds[n % kinds.length]!,
      content: p + bodies[n % bodies.length]!,
    }));
}

export function outCategories(ctx: FuzzContext): Category[] {
  const base = validRequest(ctx, 'out');
  const deploy = fc.tuple(validSource(ctx), deployParams).map(([source, params]) => ({ source, params }));
  const params = (r: Json) => r.params as Json;
  const setParams = (r: Json, p: Json) => withKey(r, 'params', p);

  const wrongType = fc
    .tuple(base, fc.constantFrom(...outParamKeys))
    .chain(([r, key]) => wrongFor[outParamTypes[key]].map((v) => setParams(r, withKey(params(r), key, v))))
    .map((r) => json(r, 'params: wrong type'));

  const badTimeout = fc.oneof(
    fc.constantFrom(
      '5',
      '5x',
      '',
      '-1s',
      '0s',
      '0',
      '1d',
      ' 5m',
      '5m ',
      '1h30',
      'ms',
      '1.5.5s',
      'five minutes',
      '0ms',
      '0h0m0s',
      'PT5M',
      '∞',
      '1e3s',
      '5M',
      '1w',
      '.5s',
      '5 m',
    ),
    fc.string({ maxLength: 10 }).filter((d) => !validDuration(d)),
    fc.oneof(fc.integer(), fc.boolean(), fc.constant(null)),
  );
  const badValue = fc
    .tuple(
      base,
      deploy,
      badTimeout,
      fc.constantFrom(
        'UPPER:1',
        'x:1 y',
        'x@sha256:short',
        'x:',
        'x:-tag',
        ':1',
        '',
        'a//b:1',
        'x@sha256:' + 'A'.repeat(64),
        'x:' + 't'.repeat(129),
        'Web:1',
        'http://x/y:1',
      ),
    )
    .map(([r, d, timeout, ref]) => (n: number) => {
      const p = params(r);
      const dp = params(d);
      const variants: [Json, Json][] = [
        [r, { ...p, timeout }],
        [d, { ...withoutKeys(dp, 'image'), image_ref: ref }],
        [d, { ...dp, replicas: [-1, 1001, 1e6, 'Auto', 'auto '][n % 5] }],
        [
          d,
          { ...dp, env: { DB: [{ secret: 'db' }, { config_map: 'c', key: 'a b' }, { secret: 'A', key: 'k' }][n % 3] } },
        ],
        [d, { ...dp, env_from: [[{}], [{ secret: 'db', config_map: 'c' }], [{ secret: 'db', prefix: '1x' }]][n % 3] }],
        [d, { ...dp, image_pull_secrets: [['Bad'], [''], 'pull'][n % 3] }],
        [d, { ...dp, service_account: ['Web', '', 'a_b'][n % 3] }],
        [d, { ...dp, patches: [['/abs.yml'], ['../up.yml'], [''], 'p.yml'][n % 4] }],
        [d, { ...dp, port: [0, 65536, -80][n % 3] }],
        [d, { ...dp, service_port: [0, 70000][n % 2] }],
        [d, { ...dp, env: { [['1A', 'a b', '', 'A=B', 'Ä'][n % 5]!]: 'v' } }],
        [d, { ...dp, env: { GOOD: [null, {}, [], ['x']][n % 4] } }],
        [d, { ...dp, labels: { [['-a', 'a/b/c', 'A'.repeat(64), '', 'a b', 'Example.com/x'][n % 6]!]: 'v' } }],
        [d, { ...dp, labels: { app: ['a b', '-x', 'x'.repeat(64), 'é', 'x_'][n % 5] } }],
        [d, { ...dp, labels: { a: [1, true, null][n % 3] } }],
        [d, { ...dp, annotations: { 'bad key!': 'v' } }],
        [d, { ...dp, annotations: { ok: 1 } }],
        [d, { ...dp, ingress_annotations: { '': 'v' } }],
        [
          d,
          {
            ...dp,
            resources: [
              { requests: { cpu: '1 core' } },
              { limits: { memory: '1GB' } },
              { requests: { gpu: '1' } },
              { request: {} },
              { limits: { cpu: -1 } },
              { limits: { cpu: true } },
            ][n % 6],
          },
        ],
        [d, { ...dp, readiness_path: ['health', '', 'http://x/health'][n % 3] }],
        [d, { ...dp, host: 'web.example.com', path: ['x', '', 'api/'][n % 3] }],
        [d, { ...dp, ingress_class: ['Traefik', 'a_b', '', '-x'][n % 4] }],
        [d, { ...dp, host: 'web.example.com', tls_secret: ['Bad_Name', '', 'UPPER'][n % 3] }],
        [d, { ...withoutKeys(dp, 'host'), tls_secret: 'web-tls' }],
        [d, { ...dp, mode: ['replace', 'Apply', '', 'delete'][n % 4] }],
        [d, { ...dp, security_context: ['privileged', 'Restricted', '', true][n % 4] }],
        [d, { ...dp, namespace: ['Bad', 'ns_1', '-ns', '', 'a.b', '${lower}', '$BUILD_NAME'][n % 7] }],
        [d, { ...dp, host: ['Web.example.com', 'a b', '', 'x_y.com', '.com', 'web..com', 'https://web.com'][n % 7] }],
        [d, { ...dp, image: 'img', image_ref: 'nginx:1' }],
        [d, withoutKeys(dp, 'image', 'image_ref')],
        [d, { ...dp, delete_namespace: true }],
        [r, { ...p, delete: false, delete_namespace: true }],
        [d, { ...dp, namespace: 'ns-a', namespace_file: 'ns/good' }],
        [d, { ...dp, manifests: n % 2 ? [''] : 'manifests/good.yml' }],
        [d, { ...dp, args: [1, 2] }],
        [r, { ...p, timeout }],
        [d, { ...dp, on_failure: ['undo', 'Rollback', '', 'roll back'][n % 4] }],
        [d, { ...dp, on_failure: 'rollback', wait: false }],
        [d, { ...withoutKeys(dp, 'image', 'image_ref'), revision: ['v1', '-1', '', '1.5', '3 '][n % 5] }],
        [d, { ...dp, revision: '3' }],
        [d, { ...withoutKeys(dp, 'image', 'image_ref'), revision: '3', revision_file: 'rev' }],
        [d, { ...withoutKeys(dp, 'image', 'image_ref'), revision_file: ['', '/rev', '../rev'][n % 3] }],
        [r, { ...p, delete: true, dry_run: true }],
        [r, { ...p, delete: true, revision: '2' }],
        [r, { sweep: { older_than: ['', '1d', 'day', 5][n % 4] } }],
        [r, { sweep: { older_than: '1h', keep: [-1, 1.5, '2'][n % 3] } }],
        [r, { sweep: { older_than: '1h', [['namespace', 'app', 'olderThan'][n % 3]!]: 'x' } }],
        [d, { ...dp, sweep: { older_than: '24h' } }],
      ];
      const [req, np] = variants[n % variants.length]!;
      return json(setParams(req, np), 'params: bad value or combination');
    });

  const escaping = fc.constantFrom(
    '../x',
    '../outside/img',
    '..',
    './../x',
    'a/../../x',
    'img/../../outside',
    '/etc',
    '/tmp',
    '/',
    `${ctx.outsideDir}/img`,
    '../../../../etc/passwd',
    'img/..',
  );
  const paths = fc.tuple(deploy, escaping).map(([d, esc]) => (n: number) => {
    const dp = withoutKeys(params(d), 'image', 'image_ref', 'namespace');
    const img = { image_ref: 'nginx:1' };
    const variants: Json[] = [
      { ...dp, image: esc },
      { ...dp, namespace_file: esc, ...img },
      { ...dp, manifests: [esc], ...img },
      { ...dp, manifests: ['manifests/good.yml', esc], ...img },
      { ...dp, image: 'img-link' }, // symlink to a valid image dir outside
      { ...dp, image: 'missing-dir' },
      { ...dp, image: 'img-file' },
      { ...dp, image: 'img-empty' },
      { ...dp, image: 'img-badref' },
      { ...dp, image: 'img-bigtag' },
      { ...dp, image: 'img-onlytag' },
      { ...dp, namespace_file: 'ns/link', ...img }, // symlink to a valid namespace file outside
      { ...dp, namespace_file: 'ns/bad', ...img },
      { ...dp, namespace_file: 'ns/empty', ...img },
      { ...dp, namespace_file: 'ns/big', ...img },
      { ...dp, namespace_file: 'ns/missing', ...img },
      { ...dp, namespace_file: 'ns', ...img },
      { ...dp, manifests: ['links/manifest.yml'], ...img }, // symlink to a valid manifest outside
      { ...dp, manifests: ['dir-link/good.yml'], ...img }, // through a symlinked directory
      { ...dp, manifests: ['dir-link/*.yml'], ...img },
      { ...dp, manifests: ['{..,zz}/outside/good.yml'], ...img },
      { ...dp, manifests: ['manifests/missing.yml'], ...img },
      { ...dp, manifests: ['big/big.yml'], ...img }, // over 4 MiB
      { ...dp, manifests: ['img-link/*'], ...img },
    ];
    return json(setParams(d, variants[n % variants.length]!), 'paths: escaping, symlinks out, missing, not a file');
  });

  const noMatch = fc
    .tuple(
      deploy,
      fc.oneof(
        fc.constantFrom(
          'nomatch*.yml',
          'manifests/*.json',
          '**/*.nothing',
          'manifests/{a,b}.yml',
          'manifests/?',
          'gen/[0-9][0-9][0-9][0-9]x.yml',
          'manifests/good.yml.*',
        ),
        fc.stringMatching(/^zz-[a-z]{1,8}\*\.(yml|yaml)$/),
      ),
    )
    .map(([d, pattern]) =>
      json(
        setParams(d, { ...withoutKeys(params(d), 'manifests'), manifests: ['manifests/good.yml', pattern] }),
        'manifests: glob matching nothing',
      ),
    );

  const badManifests = deploy.chain((d) => {
    const p = params(d);
    const ns = (p.namespace as string | undefined) ?? ((d.source as Json).namespace as string | undefined) ?? 'default';
    return badManifestFile(ctx, (d.source as Json).app as string, ns).map((f) => (n: number) => {
      const { kind, content } = f(n);
      return {
        category: 'manifests: bad documents',
        stdin: JSON.stringify(setParams(d, { ...p, manifests: ['manifests/good.yml', 'gen/@ID@.yml'] })),
        dir: 'dir' as const,
        files: { 'gen/@ID@.yml': content },
        expectCode: 2 as const,
        detail: kind,
      };
    });
  });

  const buildVars = fc
    .tuple(
      base,
      // Values are made part of a name (Bad_Name.1 → bad-name-1): these stay invalid, too long or ending in -.
      fc.constantFrom('Bad_Name.', 'UPPER_', 'a'.repeat(64), 'a b ', 'x.y.', 'é'),
      fc.constantFrom('Bad_Name_', 'UPPER.', 'a b ', 'x.', 'a/'),
    )
    .map(([r, value, hostValue]) => (n: number) => {
      const p = params(r);
      const variants: [Json, Record<string, string>][] = [
        [{ ...p, namespace: 'staging-${BUILD_NAME}' }, {}],
        [{ ...p, namespace: 'staging-${BUILD_NAME}' }, { BUILD_NAME: value }],
        [{ ...p, namespace: '${HOME}' }, { HOME: 'home' }],
        [{ ...p, namespace: '${BUILD_ID}' }, { BUILD_ID: '' }],
        [
          { ...p, namespace: 'x-${BUILD_TEAM_NAME}-${BUILD_JOB_NAME}' },
          { BUILD_TEAM_NAME: 'main', BUILD_JOB_NAME: value },
        ],
        [
          {
            ...withoutKeys(p, 'delete', 'delete_namespace', 'image'),
            image_ref: 'nginx:1',
            host: 'web-${BUILD_NAME}.example.com',
          },
          { BUILD_NAME: hostValue },
        ],
        [
          {
            ...withoutKeys(p, 'delete', 'delete_namespace', 'image'),
            image_ref: 'nginx:1',
            host: 'web-${BUILD_PIPELINE_NAME}.example.com',
          },
          {},
        ],
      ];
      const [np, env] = variants[n % variants.length]!;
      return json(setParams(r, np), 'build variables: unset, unknown, or expanding to an invalid name', { env });
    });

  const hugeParams = fc.tuple(deploy, fc.integer({ min: 0, max: 4096 })).map(([d, extra]) => (n: number) => {
    const size = MiB + extra;
    const dp = params(d);
    const variants: Json[] = [
      { ...withoutKeys(dp, 'image'), image_ref: 'A'.repeat(size) },
      { ...withoutKeys(dp, 'image'), image_ref: 'a'.repeat(size) + '!' },
      { ...dp, timeout: '1'.repeat(size) },
      { ...dp, namespace: 'a'.repeat(size) },
      { ...dp, host: 'a'.repeat(size) + '-' },
      { ...dp, manifests: ['x'.repeat(size)] },
      { ...dp, labels: { a: 'b'.repeat(size) } },
      withKey(dp, 'p'.repeat(size), 1),
    ];
    return json(setParams(d, variants[n % variants.length]!), 'params: huge strings (1 MiB)');
  });

  return [
    ...sharedCategories(ctx, 'out'),
    {
      name: 'params: not an object',
      count: 6,
      arb: fc
        .tuple(
          base,
          wrongFor.object.filter((v) => v !== null),
        )
        .map(([r, v]) => json(setParams(r, v as unknown as Json), 'params: not an object')),
    },
    {
      name: 'params: unknown key',
      count: 10,
      arb: fc
        .tuple(base, unknownKey(outParamKeys), fc.jsonValue({ maxDepth: 1 }))
        .map(([r, k, v]) => json(setParams(r, withKey(params(r), k, v)), 'params: unknown key')),
    },
    { name: 'params: wrong type', count: 25, arb: wrongType },
    { name: 'params: bad value or combination', count: 30, arb: badValue },
    { name: 'params: huge strings (1 MiB)', count: 8, arb: hugeParams },
    { name: 'paths: escaping, symlinks out, missing, not a file', count: 24, arb: paths },
    { name: 'manifests: glob matching nothing', count: 8, arb: noMatch },
    { name: 'manifests: bad documents', count: 30, arb: badManifests },
    { name: 'build variables: unset, unknown, or expanding to an invalid name', count: 7, arb: buildVars },
    {
      name: 'no sources directory ($1)',
      count: 3,
      arb: deploy.map((r) => json(r, 'no sources directory ($1)', { dir: 'none' })),
    },
  ];
}

// ---------- oracles for the generators (not for the scripts) ----------

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function yamlThrows(text: string): boolean {
  try {
    loadAll(text);
    return false;
  } catch {
    return true;
  }
}

/** What the README accepts as cluster_url: https://, or http:// on a loopback address. */
function acceptableUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (
      url.protocol === 'https:' ||
      (url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname))
    );
  } catch {
    return false;
  }
}

/** Go-style durations as the README documents them ("90s", "5m", "1h30m"), greater than zero. */
function validDuration(text: string): boolean {
  if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(text)) return false;
  return [...text.matchAll(/(\d+(?:\.\d+)?)/g)].some((m) => Number(m[1]) > 0);
}
