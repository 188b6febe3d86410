// The request every script reads from stdin, validated strictly: unknown keys are errors that name them, and every
// message names the field path (`source.cluster_ca: …`). Secret values are never echoed back.
import { z } from 'zod';
import { parseDuration } from '../time.js';
import { dns1035Label, dns1123Label, dns1123Subdomain, labelKey, labelValue } from '../kube/names.js';

const nonEmpty = z.string().min(1, { error: 'must not be empty' });
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

const clusterUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a URL (expected https://HOST[:PORT])' });
    return;
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && loopbackHosts.has(url.hostname)) return;
  ctx.addIssue({ code: 'custom', message: 'must be an https:// URL (http:// is allowed only for a loopback address)' });
});

export const sourceSchema = z
  .strictObject({
    cluster_url: clusterUrl.optional(),
    cluster_ca: nonEmpty.optional(),
    admin_cert: nonEmpty.optional(),
    admin_key: nonEmpty.optional(),
    token: nonEmpty.optional(),
    kubeconfig: nonEmpty.optional(),
    context: nonEmpty.optional(),
    insecure_skip_tls_verify: z.boolean().default(false),
    // The Pod's own ServiceAccount (Concourse running in the target cluster); no other credentials with it.
    in_cluster: z.boolean().optional(),
    // The bound of each network step (connect, TLS handshake, response headers, body); the default is in README.md.
    request_timeout: z
      .string()
      .refine((d) => parseDuration(d) !== undefined && parseDuration(d)! > 0 && parseDuration(d)! <= 3_600_000, { error: 'not a duration between 1ms and 1h (e.g. "30s")' })
      .optional(),
    namespace: z
      .string()
      .max(63, { error: 'must be at most 63 characters' })
      .regex(dns1123Label, { error: 'not a valid namespace name (lowercase letters, digits and -)' })
      .default('default'),
    app: z
      .string()
      .max(53, { error: 'must be at most 53 characters' })
      .regex(dns1035Label, { error: 'not a valid app name (a DNS-1035 label: lowercase letters, digits and -, starting with a letter)' }),
    history_limit: z.number().int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }).max(100, { error: 'must be at most 100' }).default(10),
  })
  .superRefine((source, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (source.in_cluster) {
      for (const key of ['cluster_url', 'cluster_ca', 'admin_cert', 'admin_key', 'token', 'kubeconfig', 'context'] as const) {
        if (source[key] !== undefined) issue(key, 'cannot be combined with source.in_cluster (the Pod\'s ServiceAccount is used)');
      }
      return;
    }
    if (source.kubeconfig !== undefined) {
      for (const key of ['cluster_url', 'cluster_ca', 'admin_cert', 'admin_key', 'token'] as const) {
        if (source[key] !== undefined) issue(key, 'cannot be combined with source.kubeconfig (give one or the other)');
      }
      return;
    }
    if (source.context !== undefined) issue('context', 'needs source.kubeconfig');
    if (source.cluster_url === undefined) issue('cluster_url', 'is required (or give source.kubeconfig)');
    if (source.admin_cert !== undefined && source.admin_key === undefined) issue('admin_key', 'is required with source.admin_cert');
    if (source.admin_key !== undefined && source.admin_cert === undefined) issue('admin_cert', 'is required with source.admin_key');
    if (source.token !== undefined && source.admin_cert !== undefined) issue('token', 'cannot be combined with source.admin_cert/admin_key (give one way to authenticate)');
    if (source.token === undefined && source.admin_cert === undefined && source.admin_key === undefined) {
      ctx.addIssue({ code: 'custom', path: [], message: 'no credentials: give token, admin_cert and admin_key, or kubeconfig' });
    }
  });
export type Source = z.infer<typeof sourceSchema>;

const digits = z.string().regex(/^[0-9]+$/, { error: 'must be a string of digits' });
export const versionSchema = z.strictObject({
  app: z.string().max(53, { error: 'must be at most 53 characters' }).regex(dns1035Label, { error: 'not a valid app name' }),
  // "*": the version of a sweep, which spans namespaces.
  namespace: z.string().max(63, { error: 'must be at most 63 characters' }).refine((ns) => ns === '*' || dns1123Label.test(ns), { error: 'not a valid namespace name' }),
  revision: digits,
  image: z.string(),
  deleted: z.literal('true', { error: 'must be "true" when present' }).optional(),
}).superRefine((version, ctx) => {
  if (version.namespace === '*' && version.deleted !== 'true') ctx.addIssue({ code: 'custom', path: ['namespace'], message: '"*" only in the version of a sweep (with deleted: "true")' });
});
export type Version = z.infer<typeof versionSchema>;

// A path relative to the sources/destination dir; escaping it is checked again after resolving symlinks.
const relativePath = nonEmpty.refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
  error: 'must be a path relative to the sources directory, without ..',
});
const stringMap = (key: z.ZodType<string>) => z.record(key, z.string());
const envValue = z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string' }).transform(String);
const envName = z.string().regex(/^[-._a-zA-Z][-._a-zA-Z0-9]*$/, { error: 'not a valid environment variable name' });
const labelKeyString = z.string().regex(labelKey, { error: 'not a valid label key' });
const labelMap = z.record(labelKeyString, z.string().max(63, { error: 'label values are at most 63 characters' }).regex(labelValue, { error: 'not a valid label value' }));
const annotationMap = stringMap(labelKeyString);
const quantity = z
  .union([z.string(), z.number()], { error: 'expected a quantity such as "250m" or "128Mi"' })
  .transform(String)
  .refine((q) => /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.test(q), { error: 'not a Kubernetes quantity (e.g. "250m", "128Mi")' });
const resourceList = z.strictObject({ cpu: quantity.optional(), memory: quantity.optional(), 'ephemeral-storage': quantity.optional() });
const port = z.number().int({ error: 'must be a whole number' }).min(1, { error: 'must be between 1 and 65535' }).max(65535, { error: 'must be between 1 and 65535' });
// ${NAME} placeholders are allowed here; the value is checked again after expansion.
const expandable = (rule: RegExp, what: string) =>
  nonEmpty.refine((text) => rule.test(text.replace(/\$\{[A-Z_]+\}/g, 'x')), { error: `not a valid ${what}` });

export const outParamsSchema = z
  .strictObject({
    image: relativePath.optional(),
    image_ref: nonEmpty.refine((ref) => !/\s/.test(ref), { error: 'must not contain white space' }).optional(),
    namespace: expandable(dns1123Label, 'namespace name (lowercase letters, digits and -; ${BUILD_NAME} and similar are expanded)').optional(),
    namespace_file: relativePath.optional(),
    create_namespace: z.boolean().default(false),
    replicas: z.number().int({ error: 'must be a whole number' }).min(0, { error: 'must be at least 0' }).max(1000, { error: 'must be at most 1000' }).default(1),
    port: port.default(8080),
    service_port: port.default(80),
    env: z.record(envName, envValue).default({}),
    args: z.array(z.string()).optional(),
    labels: labelMap.default({}),
    annotations: annotationMap.default({}),
    resources: z.strictObject({ requests: resourceList.optional(), limits: resourceList.optional() }).optional(),
    readiness_path: z.string().startsWith('/', { error: 'must start with /' }).optional(),
    security_context: z.enum(['baseline', 'restricted'], { error: 'must be baseline or restricted' }).default('baseline'),
    host: expandable(dns1123Subdomain, 'host name (lowercase DNS name; ${BUILD_NAME} and similar are expanded)').optional(),
    path: z.string().startsWith('/', { error: 'must start with /' }).default('/'),
    ingress_class: z.string().regex(dns1123Subdomain, { error: 'not a valid ingress class name' }).optional(),
    tls_secret: z.string().regex(dns1123Subdomain, { error: 'not a valid Secret name' }).optional(),
    ingress_annotations: annotationMap.default({}),
    manifests: z.array(relativePath).default([]),
    mode: z.enum(['apply', 'create'], { error: 'must be apply or create' }).default('apply'),
    wait: z.boolean().default(true),
    timeout: z
      .string()
      .refine((d) => parseDuration(d) !== undefined && parseDuration(d)! > 0, { error: 'not a duration (e.g. "90s", "5m", "1h")' })
      .default('5m'),
    delete: z.boolean().default(false),
    delete_namespace: z.boolean().default(false),
    prune: z.boolean().default(true),
    revision: digits.optional(),
    revision_file: relativePath.optional(),
    on_failure: z.enum(['keep', 'rollback'], { error: 'must be keep or rollback' }).default('keep'),
    dry_run: z.boolean().default(false),
    sweep: z
      .strictObject({
        older_than: z.string().refine((d) => parseDuration(d) !== undefined && parseDuration(d)! > 0, { error: 'not a duration (e.g. "24h", "90m")' }),
        keep: z.number().int({ error: 'must be a whole number' }).min(0, { error: 'must be at least 0' }).default(0),
      })
      .optional(),
    keep_volumes: z.boolean().default(false),
  })
  .superRefine((params, ctx) => {
    const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (params.namespace !== undefined && params.namespace_file !== undefined) {
      issue(['namespace_file'], 'cannot be combined with params.namespace');
    }
    if (params.delete_namespace && !params.delete) issue(['delete_namespace'], 'needs params.delete: true');
    if (params.keep_volumes && !params.delete) issue(['keep_volumes'], 'needs params.delete: true');
    if (params.tls_secret !== undefined && params.host === undefined) issue(['tls_secret'], 'needs params.host');
    if (params.on_failure === 'rollback' && !params.wait) issue(['on_failure'], 'rollback needs params.wait: true (a rollback follows a failed rollout)');
    if (params.revision !== undefined && params.revision_file !== undefined) issue(['revision_file'], 'cannot be combined with params.revision');
    if (params.delete) {
      for (const key of ['revision', 'revision_file', 'dry_run'] as const) {
        if (params[key] !== undefined && params[key] !== false) issue([key], 'cannot be combined with params.delete: true');
      }
      return;
    }
    if (params.revision !== undefined || params.revision_file !== undefined || params.sweep !== undefined) return;
    if (params.image !== undefined && params.image_ref !== undefined) {
      issue(['image_ref'], 'cannot be combined with params.image (give one)');
    } else if (params.image === undefined && params.image_ref === undefined) {
      issue([], 'give params.image (a registry-image get directory) or params.image_ref (unless params.delete is true or params.revision is given)');
    }
  });
export type OutParams = z.infer<typeof outParamsSchema>;

export const inParamsSchema = z.strictObject({});
export type InParams = z.infer<typeof inParamsSchema>;

export const checkRequestSchema = z.strictObject({
  source: sourceSchema,
  version: versionSchema.nullable().optional(),
});
export const inRequestSchema = z.strictObject({
  source: sourceSchema,
  version: versionSchema,
  params: z.preprocess((v) => v ?? {}, inParamsSchema),
});
export const outRequestSchema = z.strictObject({
  source: sourceSchema,
  params: z.preprocess((v) => v ?? {}, outParamsSchema),
});
export type CheckRequest = z.infer<typeof checkRequestSchema>;
export type InRequest = z.infer<typeof inRequestSchema>;
export type OutRequest = z.infer<typeof outRequestSchema>;
