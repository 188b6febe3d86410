// The put's params (only `out` loads this module: check and in never build it). zod/mini, as schemas.ts.
import * as z from 'zod/mini';
import { dns1123Subdomain, isNamespaceName, labelKey, labelValue, notANamespaceName } from '../kube/names.js';
import { parseWith } from './issues.js';
import { absentAsEmpty, boundedDuration, nonEmpty, revisionDigits, sourceSchema, wholeNumber } from './schemas.js';

// Bounds (README, params tables). timeout: Node's timers fire at once beyond 2^31-1 ms (24.8 days); a day is plenty
// for one put. older_than: below ten minutes a sweep takes the releases of builds still running.
const hour = 3_600_000;
export const timeoutBounds = { minMs: 1000, maxMs: 24 * hour } as const;
export const olderThanBounds = { minMs: 10 * 60_000, maxMs: 8760 * hour } as const;
export const maxSweepKeep = 1000;

// A path relative to the sources/destination dir; escaping it is checked again after resolving symlinks.
const relativePath = nonEmpty.check(
  z.refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
    error: 'must be a path relative to the sources directory, without ..',
  }),
);
const stringMap = (key: z.ZodMiniType<string>) => z.record(key, z.string());
const envValue = z.pipe(
  z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string' }),
  z.transform(String),
);
const envName = z
  .string()
  .check(z.regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/, { error: 'not a valid environment variable name' }));
// A Secret or ConfigMap of the namespace (or of the release's manifests), and one of its keys.
const objectName = z
  .string()
  .check(
    z.maxLength(253, { error: 'names are at most 253 characters' }),
    z.regex(dns1123Subdomain, { error: 'not a valid object name (lowercase letters, digits, - and .)' }),
  );
const dataKey = z
  .string()
  .check(
    z.maxLength(253, { error: 'keys are at most 253 characters' }),
    z.regex(/^[-._a-zA-Z0-9]+$/, { error: 'not a valid key (letters, digits, -, _ and .)' }),
  );
const keyRef = <K extends 'secret' | 'config_map'>(kind: K) =>
  z.strictObject({ [kind]: objectName, key: dataKey, optional: z.optional(z.boolean()) } as {
    [P in K]: typeof objectName;
  } & { key: typeof dataKey; optional: z.ZodMiniOptional<z.ZodMiniBoolean> });
const envEntry = z.union([envValue, keyRef('secret'), keyRef('config_map')], {
  error: 'expected a string, { secret: NAME, key: KEY } or { config_map: NAME, key: KEY } (optional: true allowed)',
});
const envFromEntry = z.union(
  [
    z.strictObject({ secret: objectName, prefix: z.optional(envName), optional: z.optional(z.boolean()) }),
    z.strictObject({ config_map: objectName, prefix: z.optional(envName), optional: z.optional(z.boolean()) }),
  ],
  { error: 'expected { secret: NAME } or { config_map: NAME } (prefix and optional allowed)' },
);
/** Bounds of the list params (README): far above real use, so that a runaway list is an error, not a huge spec. */
export const listLimits = { env: 500, envFrom: 50, imagePullSecrets: 20, patches: 50 } as const;
const labelKeyString = z.string().check(z.regex(labelKey, { error: 'not a valid label key' }));
const labelMap = z.record(
  labelKeyString,
  z
    .string()
    .check(
      z.maxLength(63, { error: 'label values are at most 63 characters' }),
      z.regex(labelValue, { error: 'not a valid label value' }),
    ),
);
const annotationMap = stringMap(labelKeyString);
const quantity = z
  .pipe(
    z.union([z.string(), z.number()], { error: 'expected a quantity such as "250m" or "128Mi"' }),
    z.transform(String),
  )
  .check(
    z.refine((q) => /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.test(q), {
      error: 'not a Kubernetes quantity (e.g. "250m", "128Mi")',
    }),
  );
const resourceList = z.strictObject({
  cpu: z.optional(quantity),
  memory: z.optional(quantity),
  'ephemeral-storage': z.optional(quantity),
});
const port = wholeNumber(1, 65535, 'must be between 1 and 65535');
const absolutePath = z.string().check(z.startsWith('/', { error: 'must start with /' }));
// ${NAME} placeholders are allowed here; the value is checked again after expansion.
const expandable = (valid: (text: string) => boolean, error: string) =>
  nonEmpty.check(z.refine((text) => valid(text.replace(/\$\{[A-Z_]+\}/g, 'x')), { error }));

export const outParamsSchema = z
  .strictObject({
    image: z.optional(relativePath),
    image_ref: z.optional(
      nonEmpty.check(z.refine((ref) => !/\s/.test(ref), { error: 'must not contain white space' })),
    ),
    // Each ${NAME} stands for at least one character: a name too long with one is too long expanded.
    namespace: z.optional(expandable(isNamespaceName, notANamespaceName)),
    namespace_file: z.optional(relativePath),
    create_namespace: z._default(z.boolean(), false),
    replicas: z._default(
      z.union([wholeNumber(0, 1000), z.literal('auto')], {
        error: 'must be a whole number from 0 to 1000, or auto',
      }),
      1,
    ),
    port: z._default(port, 8080),
    service_port: z._default(port, 80),
    env: z._default(
      z.record(envName, envEntry).check(
        z.refine((env) => Object.keys(env).length <= listLimits.env, {
          error: `at most ${listLimits.env} variables`,
        }),
      ),
      {},
    ),
    env_from: z._default(
      z.array(envFromEntry).check(z.maxLength(listLimits.envFrom, { error: `at most ${listLimits.envFrom}` })),
      [],
    ),
    image_pull_secrets: z._default(
      z
        .array(objectName)
        .check(z.maxLength(listLimits.imagePullSecrets, { error: `at most ${listLimits.imagePullSecrets}` })),
      [],
    ),
    service_account: z.optional(objectName),
    patches: z._default(
      z.array(relativePath).check(z.maxLength(listLimits.patches, { error: `at most ${listLimits.patches}` })),
      [],
    ),
    args: z.optional(z.array(z.string())),
    labels: z._default(labelMap, {}),
    annotations: z._default(annotationMap, {}),
    resources: z.optional(z.strictObject({ requests: z.optional(resourceList), limits: z.optional(resourceList) })),
    readiness_path: z.optional(absolutePath),
    security_context: z._default(
      z.enum(['baseline', 'restricted'], { error: 'must be baseline or restricted' }),
      'baseline',
    ),
    host: z.optional(
      expandable(
        (host) => dns1123Subdomain.test(host),
        'not a valid host name (lowercase DNS name; ${BUILD_NAME} and similar are expanded)',
      ),
    ),
    path: z._default(absolutePath, '/'),
    ingress_class: z.optional(z.string().check(z.regex(dns1123Subdomain, { error: 'not a valid ingress class name' }))),
    tls_secret: z.optional(z.string().check(z.regex(dns1123Subdomain, { error: 'not a valid Secret name' }))),
    ingress_annotations: z._default(annotationMap, {}),
    manifests: z._default(z.array(relativePath), []),
    mode: z._default(z.enum(['apply', 'create'], { error: 'must be apply or create' }), 'apply'),
    wait: z._default(z.boolean(), true),
    timeout: z._default(
      boundedDuration('"90s", "5m", "1h"', timeoutBounds.minMs, timeoutBounds.maxMs, 'between 1s and 24h'),
      '5m',
    ),
    delete: z._default(z.boolean(), false),
    delete_namespace: z._default(z.boolean(), false),
    prune: z._default(z.boolean(), true),
    revision: z.optional(revisionDigits),
    revision_file: z.optional(relativePath),
    on_failure: z._default(z.enum(['keep', 'rollback'], { error: 'must be keep or rollback' }), 'keep'),
    dry_run: z._default(z.boolean(), false),
    sweep: z.optional(
      z.strictObject({
        older_than: boundedDuration(
          '"24h", "90m"',
          olderThanBounds.minMs,
          olderThanBounds.maxMs,
          'between 10m and 8760h',
        ),
        keep: z._default(wholeNumber(0, maxSweepKeep, `must be between 0 and ${maxSweepKeep}`), 0),
        // Required: a sweep names the namespaces it may look at (the start of their names), never the whole cluster.
        namespace_prefix: z.string().check(
          z.regex(/^[a-z0-9][-a-z0-9]{0,61}$/, {
            error: 'not the start of a namespace name (lowercase letters, digits and -, at most 62, e.g. "staging-")',
          }),
        ),
      }),
    ),
    keep_volumes: z._default(z.boolean(), false),
    restart: z._default(z.boolean(), false),
  })
  .check(
    z.superRefine((params, ctx) => {
      const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
      if (params.namespace !== undefined && params.namespace_file !== undefined) {
        issue(['namespace_file'], 'cannot be combined with params.namespace');
      }
      if (params.delete_namespace && !params.delete) issue(['delete_namespace'], 'needs params.delete: true');
      if (params.keep_volumes && !params.delete) issue(['keep_volumes'], 'needs params.delete: true');
      if (params.tls_secret !== undefined && params.host === undefined) issue(['tls_secret'], 'needs params.host');
      if (params.on_failure === 'rollback' && !params.wait)
        issue(['on_failure'], 'rollback needs params.wait: true (a rollback follows a failed rollout)');
      if (params.revision !== undefined && params.revision_file !== undefined)
        issue(['revision_file'], 'cannot be combined with params.revision');
      if (params.restart && params.dry_run) issue(['restart'], 'cannot be combined with params.dry_run: true');
      if (params.delete) {
        for (const key of ['revision', 'revision_file', 'dry_run', 'restart'] as const) {
          if (params[key] !== undefined && params[key] !== false)
            issue([key], 'cannot be combined with params.delete: true');
        }
        return;
      }
      if (params.revision !== undefined || params.revision_file !== undefined || params.sweep !== undefined) return;
      if (params.image !== undefined && params.image_ref !== undefined) {
        issue(['image_ref'], 'cannot be combined with params.image (give one)');
      } else if (params.image === undefined && params.image_ref === undefined) {
        issue(
          [],
          'give params.image (a registry-image get directory) or params.image_ref ' +
            '(unless params.delete is true or params.revision is given)',
        );
      }
    }),
  );
export type OutParams = z.infer<typeof outParamsSchema>;

export const outRequestSchema = z.strictObject({
  source: sourceSchema,
  params: z.pipe(absentAsEmpty, outParamsSchema),
});
export type OutRequest = z.infer<typeof outRequestSchema>;

/** The shape of a put request (planPut in plan.ts makes the plan of it); a BadRequestError naming every wrong field. */
export const parseOutRequest = (raw: unknown): OutRequest => parseWith(outRequestSchema, raw);
