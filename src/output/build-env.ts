// Concourse's build metadata made into annotations and a URL (the keys are in
// request/build-env.ts). How a value becomes part of a name is request/plan.ts's nameSafe.
import { ourKey } from '../kube/labels.js';
import type { BuildEnv } from '../request/build-env.js';

/** Annotation keys (after `kubernetes-deploy-resource.io/`) and the metadata field `in` shows each as. */
export const buildAnnotationFields = {
  pipeline: 'build_pipeline',
  'instance-vars': 'build_instance_vars',
  job: 'build_job',
  build: 'build_name',
  'build-id': 'build_id',
  'build-url': 'build_url',
} as const;

/** Annotations that tie an object to the Concourse build that deployed it. */
export function buildAnnotations(env: BuildEnv): Record<string, string> {
  const values: Record<keyof typeof buildAnnotationFields, string | undefined> = {
    pipeline: env.BUILD_PIPELINE_NAME,
    'instance-vars': env.BUILD_PIPELINE_INSTANCE_VARS,
    job: env.BUILD_JOB_NAME,
    build: env.BUILD_NAME,
    'build-id': env.BUILD_ID,
    'build-url': buildUrl(env),
  };
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) if (value) out[ourKey(key)] = value;
  return out;
}

/**
 * Where the build is shown: BUILD_URL when Concourse sets it; else the job's build page, with the query that names
 * the pipeline instance (`?vars.branch=%22a%22`) when there is one; else Concourse's `/builds/<BUILD_ID>`.
 */
export function buildUrl(env: BuildEnv): string | undefined {
  if (env.BUILD_URL) return env.BUILD_URL;
  if (!env.ATC_EXTERNAL_URL) return undefined;
  const base = env.ATC_EXTERNAL_URL.replace(/\/+$/, '');
  const byId = env.BUILD_ID ? `${base}/builds/${encodeURIComponent(env.BUILD_ID)}` : undefined;
  if (env.BUILD_TEAM_NAME && env.BUILD_PIPELINE_NAME && env.BUILD_JOB_NAME && env.BUILD_NAME) {
    const query = env.BUILD_PIPELINE_INSTANCE_VARS ? instanceVarsQuery(env.BUILD_PIPELINE_INSTANCE_VARS) : '';
    // Instance vars we cannot read would give the page of another instance (or none): the build's own page instead.
    if (query === undefined) return byId;
    const e = encodeURIComponent;
    return (
      `${base}/teams/${e(env.BUILD_TEAM_NAME)}/pipelines/${e(env.BUILD_PIPELINE_NAME)}` +
      `/jobs/${e(env.BUILD_JOB_NAME)}/builds/${e(env.BUILD_NAME)}${query}`
    );
  }
  return byId;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A path segment as Concourse's vars.Reference writes it: quoted when it holds `,.:/` or a space. */
const refSegment = (segment: string) => (/[,.:/ ]/.test(segment) ? JSON.stringify(segment) : segment);

/** Go's url.QueryEscape: encodeURIComponent, plus !'()* escaped and a space as `+`. */
const queryEscape = (text: string) =>
  encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');

/**
 * The query of an instanced pipeline's pages, as Concourse writes it (atc.PipelineRef.QueryParams): each leaf of the
 * instance vars (nested objects flattened to dotted paths) as `vars.<path>=<its JSON>`, sorted by key, query-escaped.
 * `''` for no vars; undefined when the text is not a JSON object.
 */
export function instanceVarsQuery(json: string): string | undefined {
  let vars: unknown;
  try {
    vars = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isPlainObject(vars)) return undefined;
  const pairs: [string, string][] = [];
  const flatten = (value: unknown, path: string[]) => {
    if (isPlainObject(value) && Object.keys(value).length > 0)
      for (const [key, inner] of Object.entries(value)) flatten(inner, [...path, key]);
    else pairs.push([`vars.${path.map(refSegment).join('.')}`, JSON.stringify(value)]);
  };
  for (const [key, value] of Object.entries(vars)) flatten(value, [key]);
  if (pairs.length === 0) return '';
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return '?' + pairs.map(([key, value]) => `${queryEscape(key)}=${queryEscape(value)}`).join('&');
}
