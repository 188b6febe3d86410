import { ourKey } from '../kube/labels.js';

/** Concourse build metadata from the step's environment (only what is set). */
export interface BuildEnv {
  BUILD_ID?: string;
  BUILD_NAME?: string;
  BUILD_JOB_NAME?: string;
  BUILD_PIPELINE_NAME?: string;
  BUILD_TEAM_NAME?: string;
  BUILD_PIPELINE_INSTANCE_VARS?: string;
  ATC_EXTERNAL_URL?: string;
}

/** Annotations that tie an object to the Concourse build that deployed it. */
export function buildAnnotations(env: BuildEnv): Record<string, string> {
  const out: Record<string, string> = {};
  if (env.BUILD_PIPELINE_NAME) out[ourKey('pipeline')] = env.BUILD_PIPELINE_NAME;
  if (env.BUILD_JOB_NAME) out[ourKey('job')] = env.BUILD_JOB_NAME;
  if (env.BUILD_NAME) out[ourKey('build')] = env.BUILD_NAME;
  const url = buildUrl(env);
  if (url) out[ourKey('build-url')] = url;
  return out;
}

export function buildUrl(env: BuildEnv): string | undefined {
  if (!env.ATC_EXTERNAL_URL) return undefined;
  const base = env.ATC_EXTERNAL_URL.replace(/\/+$/, '');
  if (env.BUILD_TEAM_NAME && env.BUILD_PIPELINE_NAME && env.BUILD_JOB_NAME && env.BUILD_NAME) {
    const e = encodeURIComponent;
    return (
      `${base}/teams/${e(env.BUILD_TEAM_NAME)}/pipelines/${e(env.BUILD_PIPELINE_NAME)}` +
      `/jobs/${e(env.BUILD_JOB_NAME)}/builds/${e(env.BUILD_NAME)}`
    );
  }
  return env.BUILD_ID ? `${base}/builds/${encodeURIComponent(env.BUILD_ID)}` : undefined;
}
