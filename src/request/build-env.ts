// Concourse's build metadata as a step's environment gives it: the one list of BUILD_* keys (protocol/run.ts reads
// them, request/plan.ts expands some in params, output/build-env.ts makes annotations and a URL of them).

/** The variables Concourse sets for a get or put step (atc/exec/step_metadata.go), plus BUILD_URL when one is set. */
export const buildEnvKeys = [
  'BUILD_ID',
  'BUILD_NAME',
  'BUILD_JOB_NAME',
  'BUILD_PIPELINE_NAME',
  'BUILD_TEAM_NAME',
  'BUILD_PIPELINE_INSTANCE_VARS',
  'BUILD_URL',
  'ATC_EXTERNAL_URL',
] as const;

/** Concourse build metadata from the step's environment (only what is set). */
export type BuildEnv = Partial<Record<(typeof buildEnvKeys)[number], string>>;

/** The keys a param may name as ${KEY}: the build's own names (not its URLs or instance vars). */
export const expandableBuildKeys = [
  'BUILD_ID',
  'BUILD_NAME',
  'BUILD_JOB_NAME',
  'BUILD_PIPELINE_NAME',
  'BUILD_TEAM_NAME',
] as const satisfies readonly (typeof buildEnvKeys)[number][];
