// The request every script reads from stdin, validated strictly: unknown keys are errors that name them, and every
// message names the field path (`source.cluster_ca: …`). Secret values are never echoed back.
// On zod/mini (functions instead of methods, so that a bundle holds only what it calls); the put's params are in
// out-schema.ts, which only `out` loads.
import * as z from 'zod/mini';
import { parseDuration } from '../time.js';
import { dns1035Label, isNamespaceName, notANamespaceName } from '../kube/names.js';

export const nonEmpty = z.string().check(z.minLength(1, { error: 'must not be empty' }));
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]']);

const clusterUrl = z.string().check(
  z.superRefine((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a URL (expected https://HOST[:PORT])' });
      return;
    }
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && loopbackHosts.has(url.hostname)) return;
    ctx.addIssue({
      code: 'custom',
      message: 'must be an https:// URL (http:// is allowed only for a loopback address)',
    });
  }),
);

/** A whole number in [min, max] (the messages of full zod's `.int().min().max()`). */
export const wholeNumber = (min: number, max?: number, between?: string) =>
  z
    .number()
    .check(
      z.int({ error: 'must be a whole number' }),
      z.minimum(min, { error: between ?? `must be at least ${min}` }),
      ...(max === undefined ? [] : [z.maximum(max, { error: between ?? `must be at most ${max}` })]),
    );

/** A duration in [min, max] (`range` says it as the user writes it: "between 1s and 24h"). */
export const boundedDuration = (example: string, minMs: number, maxMs: number, range: string) =>
  z.string().check(
    z.refine(
      (d) => {
        const ms = parseDuration(d);
        return ms !== undefined && ms >= minMs && ms <= maxMs;
      },
      { error: `not a duration ${range} (e.g. ${example})` },
    ),
  );

/** The largest revision: a record's name (kdr-release.APP.vN) stays short, and N stays a safe integer. */
export const maxRevision = 999_999_999;
/** A revision as digits, 1 to maxRevision. */
export const revisionDigits = digitsIn(1, maxRevision, 'must be a revision between 1 and 999999999');

function digitsIn(min: number, max: number, error: string) {
  return z.string().check(
    z.superRefine((d, ctx) => {
      if (!/^[0-9]+$/.test(d)) ctx.addIssue({ code: 'custom', message: 'must be a string of digits' });
      else if (d.length > String(max).length || Number(d) < min || Number(d) > max)
        ctx.addIssue({ code: 'custom', message: error });
    }),
  );
}

export const sourceSchema = z
  .strictObject({
    cluster_url: z.optional(clusterUrl),
    cluster_ca: z.optional(nonEmpty),
    admin_cert: z.optional(nonEmpty),
    admin_key: z.optional(nonEmpty),
    token: z.optional(nonEmpty),
    kubeconfig: z.optional(nonEmpty),
    context: z.optional(nonEmpty),
    insecure_skip_tls_verify: z._default(z.boolean(), false),
    // The Pod's own ServiceAccount (Concourse running in the target cluster); no other credentials with it.
    in_cluster: z.optional(z.boolean()),
    // The bound of each network step (connect, TLS handshake, response headers, body); the default is in README.md.
    request_timeout: z.optional(
      z.string().check(
        z.refine((d) => parseDuration(d) !== undefined && parseDuration(d)! > 0 && parseDuration(d)! <= 3_600_000, {
          error: 'not a duration between 1ms and 1h (e.g. "30s")',
        }),
      ),
    ),
    // No default here: with in_cluster it is the Pod's namespace, known once the mount is read (namespaceOfSource).
    namespace: z.optional(z.string().check(z.refine(isNamespaceName, { error: notANamespaceName }))),
    app: z.string().check(
      z.maxLength(53, { error: 'must be at most 53 characters' }),
      z.regex(dns1035Label, {
        error: 'not a valid app name (a DNS-1035 label: lowercase letters, digits and -, starting with a letter)',
      }),
    ),
    history_limit: z._default(wholeNumber(1, 100), 10),
  })
  .check(
    z.superRefine((source, ctx) => {
      const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
      if (source.in_cluster) {
        for (const key of [
          'cluster_url',
          'cluster_ca',
          'admin_cert',
          'admin_key',
          'token',
          'kubeconfig',
          'context',
        ] as const) {
          if (source[key] !== undefined)
            issue(key, "cannot be combined with source.in_cluster (the Pod's ServiceAccount is used)");
        }
        return;
      }
      if (source.kubeconfig !== undefined) {
        for (const key of ['cluster_url', 'cluster_ca', 'admin_cert', 'admin_key', 'token'] as const) {
          if (source[key] !== undefined)
            issue(key, 'cannot be combined with source.kubeconfig (give one or the other)');
        }
        return;
      }
      if (source.context !== undefined) issue('context', 'needs source.kubeconfig');
      if (source.cluster_url === undefined) issue('cluster_url', 'is required (or give source.kubeconfig)');
      if (source.admin_cert !== undefined && source.admin_key === undefined)
        issue('admin_key', 'is required with source.admin_cert');
      if (source.admin_key !== undefined && source.admin_cert === undefined)
        issue('admin_cert', 'is required with source.admin_key');
      if (source.token !== undefined && source.admin_cert !== undefined)
        issue('token', 'cannot be combined with source.admin_cert/admin_key (give one way to authenticate)');
      if (source.token === undefined && source.admin_cert === undefined && source.admin_key === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: 'no credentials: give token, admin_cert and admin_key, or kubeconfig',
        });
      }
    }),
  );
export type Source = z.infer<typeof sourceSchema>;

export const digits = z.string().check(z.regex(/^[0-9]+$/, { error: 'must be a string of digits' }));
export const versionSchema = z
  .strictObject({
    app: z
      .string()
      .check(
        z.maxLength(53, { error: 'must be at most 53 characters' }),
        z.regex(dns1035Label, { error: 'not a valid app name' }),
      ),
    // "*": the version of a sweep, which spans namespaces.
    namespace: z.string().check(z.refine((ns) => ns === '*' || isNamespaceName(ns), { error: notANamespaceName })),
    revision: digits,
    image: z.string(),
    deleted: z.optional(z.literal('true', { error: 'must be "true" when present' })),
  })
  .check(
    z.superRefine((version, ctx) => {
      if (version.namespace === '*' && version.deleted !== 'true')
        ctx.addIssue({
          code: 'custom',
          path: ['namespace'],
          message: '"*" only in the version of a sweep (with deleted: "true")',
        });
    }),
  );
export type Version = z.infer<typeof versionSchema>;

export const inParamsSchema = z.strictObject({});
export type InParams = z.infer<typeof inParamsSchema>;

/** `params` may be absent or null: then it is {}. */
export const absentAsEmpty = z.transform((v: unknown) => v ?? {});

export const checkRequestSchema = z.strictObject({
  source: sourceSchema,
  version: z.optional(z.nullable(versionSchema)),
});
export const inRequestSchema = z.strictObject({
  source: sourceSchema,
  version: versionSchema,
  params: z.pipe(absentAsEmpty, inParamsSchema),
});
