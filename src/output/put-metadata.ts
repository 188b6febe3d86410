// What Concourse shows for a deploy, a redeploy or a dry run: the metadata list, and a dry run's diff on stderr.
import type { DeployResult, DryRunObject, ReleaseContent } from '../engine/deploy.js';
import { objectRef } from '../kube/object.js';
import type { Logger } from '../log.js';
import type { DeployPlan, RedeployPlan } from '../request/plan.js';
import { formatDuration } from '../time.js';
import { diffObject, formatDiffSummary } from './diff.js';
import { metadataList, type VersionResponse } from './version.js';

/** A dry run's diff on stderr, a line per object, then the summary; the version is what is deployed now. */
export function dryRunResponse(
  target: { log: Logger; app: string; namespace: string },
  release: ReleaseContent,
  result: DeployResult,
  objects: DryRunObject[],
): VersionResponse {
  const { log, app, namespace } = target;
  const diffs = objects.map((o) => diffObject(o.live, o.dryRun ?? o.desired));
  for (const diff of diffs) {
    log.info(`${diff.ref}: ${diff.change}`);
    for (const line of diff.lines) log.info(line);
  }
  for (const ref of result.pruned) log.info(`${ref}: would be pruned`);
  const changes = formatDiffSummary(diffs, result.pruned);
  log.info(`dry run: ${changes}; nothing was changed`);
  const deployed = result.version.revision === '0' ? 'none' : result.version.revision;
  return {
    version: result.version,
    metadata: metadataList({
      namespace,
      app,
      dry_run: 'true',
      deployed_revision: deployed,
      image: release.image.ref,
      changes,
      to_prune: result.pruned.join(', '),
    }),
  };
}

/** A put's metadata: the release, its rollout, and what the prune did. */
export function deployMetadata(plan: DeployPlan | RedeployPlan, release: ReleaseContent, result: DeployResult) {
  const { app, namespace } = result.version;
  return metadataList({
    namespace,
    app,
    revision: result.version.revision,
    image: release.image.ref,
    objects: release.objects.map(objectRef).join(', '),
    url: release.url,
    rollout_duration:
      result.rolloutMs !== undefined
        ? formatDuration(result.rolloutMs)
        : plan.wait
          ? undefined
          : 'not waited (wait: false)',
    mode: plan.mode,
    pruned: plan.prune ? result.pruned.join(', ') || 'nothing' : 'off (prune: false)',
    not_pruned: result.notPruned.join(', ') || undefined,
    redeployed_from: release.redeployedFrom,
    restarted_at: result.restartedAt,
  });
}
