// RESULTS.md: the lifecycle sections (prune, rollback, workloads, sweep) and the cleanup.
import { summarize } from './audit.js';
import { cell, disruptedMark, ms, ratio, table } from './format.js';
import { median } from './proc.js';
import type { BenchResults } from './results.js';
import { type Lines, eventsOf, requestCount, requestsOfAll, byAgent, groupedRequests } from './report-requests.js';

export function pruneSection(r: BenchResults): Lines {
  const reps = r.prune ?? [];
  if (!reps.length) return [];
  const ours = median(reps.map((rep) => rep.ours.ms));
  const kubectl = median(reps.map((rep) => rep.theirs.ms));
  const kubectlApply = median(reps.map((rep) => rep.theirs.applyMs));
  const ourRequests = (rep: (typeof reps)[number]) => requestCount(r, rep.ours.user);
  const kubectlRequests = (rep: (typeof reps)[number]) =>
    requestCount(r, rep.theirs.applyUser) + requestCount(r, rep.theirs.rolloutUser);
  const medianRequests = median(reps.map(ourRequests));
  const medianKubectlRequests = median(reps.map(kubectlRequests));
  return [
    '### 6a. Prune put (issue 10): a release with 2 extra ConfigMaps, re-put without one',
    '',
    'Ours: `out` with `manifests: [extra.yml]` (ConfigMaps `web-extra-a`, `web-extra-b`), then the measured re-put ' +
      'with only `web-extra-a` (`prune` on, its default; Deployment + Service + Ingress unchanged, 2 replicas): it ' +
      're-applies, confirms the rollout, records a new revision and deletes `web-extra-b`. The kubectl way: the same ' +
      'two revisions (their `manifests.yml` from `in`, one JSON file per object in a directory), the second applied ' +
      `with \`kubectl apply -n NS --prune -l ${reps[0]!.theirs.selector} --prune-allowlist KIND… -f DIR\` (the ` +
      'allowlist names ConfigMap, Secret, Service, Deployment, Ingress: the kinds the release holds, so both sides ' +
      'look at the same kinds), then `kubectl rollout status deployment/web`. kubectl ' +
      'prunes at once, whether or not the rollout goes well; ours prunes only after it, and only objects that still ' +
      "carry the release's labels.",
    '',
    table(
      [
        'rep',
        'ours: wall',
        'ours: requests',
        'ours: pruned',
        'kubectl: apply --prune',
        'kubectl: + rollout status',
        'kubectl: requests',
        'kubectl pruned it',
        'ratio (wall)',
        'ratio (requests)',
      ],
      reps.map((rep, i) => [
        `${i + 1}${disruptedMark(rep.ours.disrupted || rep.theirs.disrupted)}`,
        ms(rep.ours.ms),
        ourRequests(rep),
        `${rep.ours.pruned ?? '–'}${rep.ours.gone ? '' : ' (still there!)'}`,
        ms(rep.theirs.applyMs),
        ms(rep.theirs.ms),
        `${kubectlRequests(rep)} ` +
          `(${requestCount(r, rep.theirs.applyUser)} + ${requestCount(r, rep.theirs.rolloutUser)})`,
        rep.theirs.gone ? 'yes' : 'no',
        ratio(rep.ours.ms, rep.theirs.ms),
        ratio(ourRequests(rep), kubectlRequests(rep)),
      ]),
    ),
    `| **median** | **${ms(ours)}** | ${medianRequests} | | ${ms(kubectlApply)} | **${ms(kubectl)}** | ` +
      `${medianKubectlRequests} | | **${ratio(ours, kubectl)}** | ` +
      `**${ratio(medianRequests, medianKubectlRequests)}** |`,
    '',
    `Ours ÷ \`kubectl apply --prune\` alone (no rollout check): ${ratio(ours, kubectlApply)}. Requests of one prune ` +
      `put (rep 1), grouped: ${groupedRequests(eventsOf(r, reps[0]!.ours.user), 1)}. \`kubectl apply --prune\`, ` +
      `grouped: ${groupedRequests(eventsOf(r, reps[0]!.theirs.applyUser), 1)}.`,
    '',
  ];
}

/** 6b: a failed put with on_failure: rollback, ours beside kubectl's apply, status, rollout undo, status. */
export function rollbackSection(r: BenchResults): Lines {
  const rep = r.rollback?.[0];
  if (!rep) return [];
  const kubectlRequests = requestsOfAll(r, rep.theirs.users);
  const steps = (stepsMs: Record<string, number>) =>
    Object.entries(stepsMs)
      .map(([step, msec]) => `${step} ${ms(msec)}`)
      .join(', ');
  return [
    '### 6b. Rollback (issue 10): good → unpullable image with `on_failure: rollback`',
    '',
    'Ours: a put of `registry.example.com/bench/unpullable-app:2.0` over a deployed good release (2 replicas, ' +
      '`timeout: 2m`, `on_failure: rollback`): it detects the pull failure, re-applies the last deployed revision, ' +
      `waits for it, and exits 5; the log says \`${rep.ours.rolledBack ?? '(no rolled back line!)'}\`. The kubectl ` +
      'way on the same objects: `kubectl apply` of the broken Deployment (`progressDeadlineSeconds: 30`, as in ' +
      'section 3; 600 by default), `kubectl rollout status` (fails at the deadline), `kubectl rollout undo`, ' +
      `\`kubectl rollout status\`. Image afterwards: ours \`${rep.ours.imageAfter}\`, kubectl ` +
      `\`${rep.theirs.imageAfter}\`.`,
    '',
    table(
      ['way', 'exit', 'wall', 'steps', 'requests', 'by user agent'],
      [
        [
          `ours${disruptedMark(rep.ours.disrupted)}`,
          rep.ours.code ?? '',
          `**${ms(rep.ours.ms)}**`,
          `pull failure seen → exit ${ms(rep.ours.detectToExitMs)} (detection + rollback + its rollout)`,
          requestCount(r, rep.ours.user),
          byAgent(summarize(eventsOf(r, rep.ours.user))),
        ],
        [
          `kubectl${disruptedMark(rep.theirs.disrupted)}`,
          `rollout status: 1 (\`${cell(rep.theirs.failMessage ?? '')}\`), then 0`,
          `**${ms(rep.theirs.ms)}**`,
          steps(rep.theirs.stepsMs),
          `${kubectlRequests} (${Object.values(rep.theirs.users)
            .map((user) => requestCount(r, user))
            .join(' + ')})`,
          '',
        ],
      ],
    ),
    '',
    `Ratio ours ÷ kubectl: wall **${ratio(rep.ours.ms, rep.theirs.ms)}**, requests ` +
      `**${ratio(requestCount(r, rep.ours.user), kubectlRequests)}** (kubectl's wall is mostly the 30 s progress ` +
      'deadline). `rollout undo` goes back only on the Deployment; ours re-applies every object of the revision and ' +
      'prunes what the failed attempt added.',
    '',
  ];
}

/** 6c: a release with a StatefulSet and a Job, ours beside kubectl apply + three waits. */
export function workloadsSection(r: BenchResults): Lines {
  const reps = r.workloads ?? [];
  if (!reps.length) return [];
  const ours = median(reps.map((rep) => rep.ours.ms));
  const kubectl = median(reps.map((rep) => rep.theirs.ms));
  const ourRequests = (rep: (typeof reps)[number]) => requestCount(r, rep.ours.user);
  const kubectlRequests = (rep: (typeof reps)[number]) => requestsOfAll(r, rep.theirs.users);
  const medianRequests = median(reps.map(ourRequests));
  const medianKubectlRequests = median(reps.map(kubectlRequests));
  return [
    '### 6c. A release with a StatefulSet and a Job (issue 11)',
    '',
    'The app (Deployment with 2 replicas + Service + Ingress) plus extra manifests: StatefulSet `db` (1 replica, a ' +
      '`volumeClaimTemplates` claim, headless Service `db`) and Job `migrate` (no phase annotation: applied with the ' +
      'other workloads and waited for alongside them). Ours: one put into a fresh namespace. The kubectl way: the ' +
      "same objects (section 2's `manifests.yml` + the same documents), `kubectl apply -f DIR`, `kubectl rollout " +
      'status statefulset/db`, `kubectl rollout status deployment/web`, `kubectl wait --for=condition=complete ' +
      'job/migrate`.',
    '',
    table(
      [
        'rep',
        'ours: wall',
        'ours: requests',
        'kubectl: steps',
        'kubectl: wall',
        'kubectl: requests',
        'ratio (wall)',
        'ratio (requests)',
      ],
      reps.map((rep, i) => [
        `${i + 1}${disruptedMark(rep.ours.disrupted || rep.theirs.disrupted)}`,
        ms(rep.ours.ms),
        ourRequests(rep),
        Object.entries(rep.theirs.stepsMs)
          .map(([step, msec]) => `${step} ${ms(msec)}`)
          .join(', '),
        ms(rep.theirs.ms),
        `${kubectlRequests(rep)} (${Object.values(rep.theirs.users)
          .map((user) => requestCount(r, user))
          .join(' + ')})`,
        ratio(rep.ours.ms, rep.theirs.ms),
        ratio(ourRequests(rep), kubectlRequests(rep)),
      ]),
    ),
    `| **median** | **${ms(ours)}** | ${medianRequests} | | **${ms(kubectl)}** | ${medianKubectlRequests} | ` +
      `**${ratio(ours, kubectl)}** | **${ratio(medianRequests, medianKubectlRequests)}** |`,
    '',
    `Requests of one such put (rep 1), grouped: ${groupedRequests(eventsOf(r, reps[0]!.ours.user), 1)}.`,
    '',
  ];
}

/** 6d: one sweep put over N per-build namespaces, beside a kubectl delete namespace loop. */
export function sweepSection(r: BenchResults): Lines {
  const sweep = r.sweep;
  if (!sweep) return [];
  const ours = requestCount(r, sweep.ours.user);
  const kubectl = requestCount(r, sweep.theirs.user);
  return [
    `### 6d. Sweep of ${sweep.n} namespaces (issue 15)`,
    '',
    `${sweep.n} per-build releases of app \`${sweep.app}\` (Deployment with 1 replica + Service + Ingress), each put ` +
      'with `create_namespace: true` into its own namespace; their record Secrets aged by 2 h (the `last-put` stamp ' +
      'rewritten, as test/integration/sweep.test.ts does); then one measured put `sweep: {older_than: 1h, ' +
      'namespace_prefix}`: it lists ' +
      'the namespaces, checks each was created by this resource and holds only this app, tears each release down ' +
      '(ownership-scoped, waiting for the Pods) and deletes the namespace. The kubectl way, for comparison only: ' +
      `${sweep.n} other namespaces holding the same objects, deleted by a bash loop of \`kubectl delete namespace NS ` +
      '--wait` (one kubectl process each, sharing one cache dir as a loop in one container would). **It lacks every ' +
      'ownership check**: it deletes whatever the namespaces hold, whoever created them.',
    '',
    table(
      ['way', 'wall', 'per namespace', 'requests', 'requests per namespace', 'by user agent', 'result'],
      [
        [
          `ours: one sweep put${disruptedMark(sweep.ours.disrupted)}`,
          `**${ms(sweep.ours.ms)}**`,
          ms(sweep.ours.ms / sweep.n),
          ours,
          (ours / sweep.n).toFixed(1),
          byAgent(summarize(eventsOf(r, sweep.ours.user))),
          `${sweep.ours.swept} swept${sweep.ours.all ? ' (all of them)' : ' (not all!)'}; ` +
            `${sweep.ours.namespacesLeft} namespaces still present (terminating) at exit`,
        ],
        [
          `kubectl delete namespace loop${disruptedMark(sweep.theirs.disrupted)}`,
          `**${ms(sweep.theirs.ms)}**`,
          ms(sweep.theirs.ms / sweep.n),
          kubectl,
          (kubectl / sweep.n).toFixed(1),
          byAgent(summarize(eventsOf(r, sweep.theirs.user))),
          `${sweep.theirs.namespaces} deleted and waited for`,
        ],
      ],
    ),
    '',
    `Ratio ours ÷ kubectl: wall **${ratio(sweep.ours.ms, sweep.theirs.ms)}**, requests **${ratio(ours, kubectl)}**. ` +
      `Ours, grouped: ${groupedRequests(eventsOf(r, sweep.ours.user), 1)}.`,
    '',
  ];
}

/** Section 6 (issues 10, 11, 15): prune, rollback, a StatefulSet + Job release, sweep; each beside the kubectl way. */
export function lifecycleSections(r: BenchResults): Lines {
  return [
    '## 6. Release lifecycle (issues 10, 11, 15), each beside the kubectl way',
    '',
    "Same method as above: wall time spawn → exit (for the kubectl way, first command's spawn → last command's exit: " +
      'cold processes in sequence); API requests from the audit log, one client identity per measured process. ' +
      "Set-up steps (first puts, kubectl's first apply) are not measured.",
    '',
    ...pruneSection(r),
    ...rollbackSection(r),
    ...workloadsSection(r),
    ...sweepSection(r),
  ];
}

export function cleanupSection(r: BenchResults): Lines {
  return [
    '## Clean-up',
    '',
    `${r.cleanup.namespaces} namespaces \`kdr-bench-${r.runId}-*\` deleted` +
      `${r.cleanup.allGone ? ' and gone' : ' (some still terminating at exit)'}.`,
    '',
  ];
}

/**
 * bench/RESULTS.md's text: every section, then the check-start block (npm run bench:check's) and the check-scale
 * block (npm run bench:scale's) kept as they were.
 */
