// `out` (put): carries out a put plan — deploy a release, redeploy a recorded revision, or tear the release down.
import type { ClusterApi } from '../cluster/api.js';
import { resolveClusterAuth } from '../cluster/auth.js';
import { deployRelease } from '../engine/deploy.js';
import { newRelease, type ReleaseContent } from '../engine/release.js';
import { readRecordedRelease } from '../engine/redeploy.js';
import type { ReleaseTarget } from '../engine/target.js';
import { resourceScope, type ResourceScope } from '../engine/namespace.js';
import { sweepReleases } from '../engine/sweep.js';
import { teardownRelease } from '../engine/teardown.js';
import { buildAnnotations } from '../output/build-env.js';
import { deployMetadata, dryRunResponse } from '../output/put-metadata.js';
import { metadataList, type VersionResponse } from '../output/version.js';
import {
  type DeployPlan,
  type PutPlan,
  type RedeployPlan,
  type SweepPlan,
  type TeardownPlan,
} from '../request/plan.js';
import { namespaceOfSource } from '../request/namespace.js';
import { readNamespaceFile, readRevisionFile } from '../sources/read.js';
import { Deadline, formatDuration, systemClock, type Clock } from '../time.js';
import { connectWith, releaseNamespace, type CommandDeps } from './context.js';

/** Which resource this is, for the namespaces it creates and the sweeps it runs (engine/namespace.ts). */
function scopeOf(plan: PutPlan, cluster: ClusterApi, deps: CommandDeps): ResourceScope {
  const source = namespaceOfSource(plan.source);
  return resourceScope({
    server: cluster.server,
    sourceNamespace: 'name' in source ? source.name : "(the Pod's namespace)",
    team: deps.env.BUILD_TEAM_NAME,
    pipeline: deps.env.BUILD_PIPELINE_NAME,
    instanceVars: deps.env.BUILD_PIPELINE_INSTANCE_VARS,
  });
}

/** "pipeline/job #build" when Concourse says, else this process. */
function holderOf(deps: CommandDeps): string {
  const { BUILD_PIPELINE_NAME: pipeline, BUILD_JOB_NAME: job, BUILD_NAME: build } = deps.env;
  const who = pipeline && job ? `${pipeline}/${job}${build ? ` #${build}` : ''}` : build ? `build ${build}` : 'a put';
  return deps.processId !== undefined ? `${who} (pid ${deps.processId})` : who;
}

/** A put, from its plan (request/plan.ts's planPut made it of the request: commands never parse). */
export async function out(plan: PutPlan, sourcesDir: string, deps: CommandDeps): Promise<VersionResponse> {
  const clock = deps.clock ?? systemClock;
  const auth = resolveClusterAuth(plan.source, new Date(clock.now()));
  if (plan.action === 'sweep') return sweep(plan, connectWith(deps, auth), deps, clock);
  const namespace = await releaseNamespace(plan.namespace, deps, (file) => readNamespaceFile(sourcesDir, file));
  // Everything the request holds is read and checked before the first cluster call.
  const content =
    plan.action === 'deploy'
      ? await newRelease(plan, namespace, sourcesDir, buildAnnotations(deps.env), clock.now())
      : undefined;
  const revision = plan.action === 'redeploy' ? await revisionOf(plan, sourcesDir) : undefined;

  const cluster = connectWith(deps, auth);
  const target: ReleaseTarget = {
    cluster,
    log: deps.log,
    ...(deps.signal ? { signal: deps.signal } : {}),
    clock,
    app: plan.app,
    namespace,
    deadline: Deadline.after(plan.timeoutMs, clock),
    holder: holderOf(deps),
  };
  if (plan.action === 'teardown') return teardown(plan, target);
  const release = content ?? (await readRecordedRelease(target, revision!));
  return deploy(plan, target, release, new Date(clock.now()), scopeOf(plan, cluster, deps));
}

async function revisionOf(plan: RedeployPlan, sourcesDir: string): Promise<number> {
  return 'number' in plan.revision ? plan.revision.number : readRevisionFile(sourcesDir, plan.revision.file);
}

async function deploy(
  plan: DeployPlan | RedeployPlan,
  target: ReleaseTarget,
  release: ReleaseContent,
  now: Date,
  scope: ResourceScope,
): Promise<VersionResponse> {
  const { app, namespace, log } = target;
  const what =
    release.redeployedFrom !== undefined
      ? `revision ${release.redeployedFrom} of ${app} (${release.image.ref})`
      : `${release.image.ref} as release ${app}`;
  log.info(
    `${plan.dryRun ? 'dry run: would deploy' : 'deploying'} ${what} to namespace ${namespace} ` +
      `on ${target.cluster.server} (${plan.mode})`,
  );
  const { createNamespace, mode, wait, prune, onFailure, dryRun, restart } = plan;
  const options = { createNamespace, mode, wait, prune, onFailure, dryRun, restart };
  const result = await deployRelease({
    ...target,
    ...options,
    historyLimit: plan.source.history_limit,
    release,
    now,
    scope,
  });
  if (result.dryRun) return dryRunResponse(target, release, result, result.dryRun.objects);
  log.info(
    `release ${app} revision ${result.revision} is live in namespace ${namespace}` +
      (release.url ? ` at ${release.url}` : ''),
  );
  return { version: result.version, metadata: deployMetadata(plan, release, result) };
}

async function sweep(plan: SweepPlan, cluster: ClusterApi, deps: CommandDeps, clock: Clock): Promise<VersionResponse> {
  const { app } = plan;
  const age = formatDuration(plan.olderThanMs);
  const scope = scopeOf(plan, cluster, deps);
  deps.log.info(
    `${plan.dryRun ? 'dry run: would sweep' : 'sweeping'} releases of ${app} older than ${age} ` +
      `from the namespaces ${plan.namespacePrefix}* this resource created for them on ${cluster.server} ` +
      `(scope ${scope.id}: ${scope.description})`,
  );
  const result = await sweepReleases({
    cluster,
    log: deps.log,
    ...(deps.signal ? { signal: deps.signal } : {}),
    clock,
    app,
    deadline: Deadline.after(plan.timeoutMs, clock),
    holder: holderOf(deps),
    olderThanMs: plan.olderThanMs,
    keep: plan.keep,
    dryRun: plan.dryRun,
    namespacePrefix: plan.namespacePrefix,
    scope,
  });
  deps.log.info(
    `sweep: ${result.swept.length} namespace${result.swept.length === 1 ? '' : 's'} ` +
      `${plan.dryRun ? 'would be ' : ''}swept, ${result.kept.length} kept, ${result.leftAlone.length} left alone`,
  );
  return {
    version: { app, namespace: '*', revision: '0', image: '', deleted: 'true' },
    metadata: metadataList({
      app,
      ...(plan.dryRun ? { dry_run: 'true' } : {}),
      swept: result.swept.join(', ') || 'nothing',
      kept: result.kept.join(', '),
      left_alone: result.leftAlone.join(', '),
    }),
  };
}

async function teardown(plan: TeardownPlan, target: ReleaseTarget): Promise<VersionResponse> {
  const { app, namespace, log } = target;
  log.info(`deleting release ${app} from namespace ${namespace} on ${target.cluster.server}`);
  const result = await teardownRelease({
    ...target,
    deleteNamespace: plan.deleteNamespace,
    keepVolumes: plan.keepVolumes,
  });
  log.info(`release ${app} deleted from namespace ${namespace} (${result.deleted.length} objects)`);
  return {
    version: {
      app,
      namespace,
      revision: String(result.lastRevision ?? 0),
      image: result.lastImage ?? '',
      deleted: 'true',
    },
    metadata: metadataList({
      namespace,
      app,
      deleted: result.deleted.join(', ') || 'nothing (already gone)',
      left_alone: result.leftAlone.join(', '),
      volumes_kept: plan.keepVolumes ? result.keptVolumes.join(', ') || 'none' : undefined,
      namespace_deleted: plan.deleteNamespace ? String(result.namespaceDeleted) : undefined,
    }),
  };
}
