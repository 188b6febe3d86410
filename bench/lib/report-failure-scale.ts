// RESULTS.md: the failure, scale, and memory and size sections.
import { cell, disruptedMark, kib, mb, ms, ratio, table } from './format.js';
import { median } from './proc.js';
import type { FullBenchResults } from './results.js';
import { scaleRan } from './results.js';
import {
  type Lines,
  eventsOf,
  requestCount,
  medianOrUndefined,
  maxOrUndefined,
  requestList,
  groupedRequests,
  repeatedRequests,
} from './report-requests.js';
import { peakRssRows } from './report-targets.js';

export function failureSection(r: FullBenchResults): Lines {
  const ours = r.failOurs;
  const kubectl = r.failKubectl;
  const detection = medianOrUndefined(ours.map((run) => run.detectMs).filter((x) => x !== undefined));
  const lines = [
    '## 3. Failure detection: unpullable image (`registry.example.com/bench/unpullable-app:1.0`, 2 replicas)',
    '',
    "Measured from the moment the bench's Pod watch first sees a container waiting in `ErrImagePull` or " +
      '`ImagePullBackOff` (the stand-in writes `ErrImagePull` first and `ImagePullBackOff` 1 s later; it does not ' +
      'log per-Pod timestamps) to the process exiting.',
    '',
    table(
      ['run', 'exit code', 'first seen', '→ exit', 'from ImagePullBackOff → exit', 'wall', 'message'],
      [
        ...ours.map((run, i) => [
          `ours ${i + 1}${disruptedMark(run.disrupted)}`,
          run.code ?? '',
          run.firstReason ?? '–',
          ms(run.detectMs),
          run.fromBackOffMs === undefined
            ? '–'
            : run.fromBackOffMs < 0
              ? `exited ${ms(-run.fromBackOffMs)} before it`
              : ms(run.fromBackOffMs),
          ms(run.ms),
          `\`${cell(run.error ?? '').slice(0, 220)}\``,
        ]),
        [
          `kubectl apply + rollout status${disruptedMark(kubectl.disrupted)}`,
          kubectl.code ?? '',
          kubectl.firstReason ?? '–',
          ms(kubectl.detectMs),
          '',
          ms(kubectl.ms),
          `\`${cell(kubectl.error ?? '')}\``,
        ],
      ],
    ),
    '',
    `Ours: ${ms(detection)} median from the Pod showing the pull failure to exit code 5. kubectl fails only at ` +
      `progressDeadlineSeconds (30 s set here; 600 s by default): ${ms(kubectl.detectMs)} after the Pod showed it, ` +
      `exit ${kubectl.code}, and without naming the Pod or the reason.`,
    '',
  ];
  const recovery = r.recovery ?? [];
  if (!recovery.length) return lines;
  const completeToExit = recovery.map((run) => run.completeToExitMs).filter((x) => x !== undefined);
  return [
    ...lines,
    '### The recovery put: good → unpullable (exit 5) → good again',
    '',
    "The put that restores the good image after a failed one (issue 10). Measured from the moment the bench's " +
      'Deployment watch sees the rollout complete again (observed generation, all replicas updated and available, ' +
      'the failed ReplicaSet scaled down) to the process exiting; target ≤ 0.5 s.',
    '',
    table(
      ['run', 'exit code', 'complete → exit', 'wall', 'API requests (audit log)'],
      recovery.map((run, i) => [
        `recovery ${i + 1}${disruptedMark(run.disrupted)}`,
        run.code ?? '',
        ms(run.completeToExitMs),
        ms(run.ms),
        requestCount(r, run.user),
      ]),
    ),
    '',
    `Median ${ms(medianOrUndefined(completeToExit))} from the Deployment rolling out again to exit code 0, wall ` +
      `${ms(median(recovery.map((run) => run.ms)))}. Requests of one recovery put (run 1), grouped: ` +
      `${groupedRequests(eventsOf(r, recovery[0]!.user), 1)}. Its \`on_failure: rollback\` counterpart and ` +
      "kubectl's `rollout undo` are in section 6b.",
    '',
  ];
}

/** Section 4: N releases deployed and torn down, sequentially and a few at once. */
export function scaleSection(r: FullBenchResults): Lines {
  const scaleRuns = r.scale.filter(scaleRan);
  const perRelease = (prefix: string) => {
    const counts = Object.keys(r.audit)
      .filter((user) => user.startsWith(prefix))
      .map((user) => r.audit[user]!.length);
    return counts.length
      ? {
          mean: counts.reduce((a, b) => a + b, 0) / counts.length,
          min: Math.min(...counts),
          max: Math.max(...counts),
        }
      : undefined;
  };
  const requestsPerRelease = (prefix: string) => {
    const c = perRelease(prefix);
    return c ? `${c.mean.toFixed(1)} (${c.min}–${c.max})` : '–';
  };
  const lines = [
    '## 4. Scale: N releases (distinct apps, Deployment + Service + Ingress, 1 replica each) deployed, then torn ' +
      'down, in one namespace',
    '',
    'Each put is its own `assets/out` process, as separate Concourse puts are. Per release = phase wall time ÷ N. ' +
      'Requests per release from the audit log (one client identity per put).',
    '',
    table(
      [
        'mode',
        'N',
        'load (1 min)',
        'deploy: wall',
        'deploy: per release',
        'deploy: one put median / max',
        'deploy: requests per release',
        'teardown: wall',
        'teardown: per release',
        'teardown: one put median / max',
        'teardown: requests per release',
      ],
      r.scale.map((row) => {
        if (!scaleRan(row)) return [row.mode, row.n, '', row.skipped, '', '', '', '', '', '', ''];
        const disrupted = row.deploy.disruptedPuts + row.teardown.disruptedPuts;
        return [
          `${row.mode}${disrupted ? ` ⚠ (${disrupted} puts overlapped an apiserver restart)` : ''}`,
          row.n,
          row.deploy.load1?.toFixed(1) ?? '–',
          ms(row.deploy.wallMs),
          ms(row.deploy.perReleaseMs),
          `${ms(row.deploy.putMs.median)} / ${ms(row.deploy.putMs.max)}`,
          requestsPerRelease(row.deploy.userPrefix),
          ms(row.teardown.wallMs),
          ms(row.teardown.perReleaseMs),
          `${ms(row.teardown.putMs.median)} / ${ms(row.teardown.putMs.max)}`,
          requestsPerRelease(row.teardown.userPrefix),
        ];
      }),
    ),
    '',
  ];
  const first = scaleRuns[0];
  const teardownSample = first ? eventsOf(r, `${first.teardown.userPrefix}r1`) : [];
  const deploySample = first ? eventsOf(r, `${first.deploy.userPrefix}r1`) : [];
  if (teardownSample.length)
    lines.push(
      '### Every request of one teardown (`delete: true`, 1 replica; the first release of the first scale run), in ' +
        'order',
      '',
      `Repeated in this one teardown: ${repeatedRequests(teardownSample)}.`,
      '',
      requestList(teardownSample),
      '',
    );
  if (deploySample.length)
    lines.push(
      `Deploy of the same release (1 replica): ${deploySample.length} requests — ` +
        `${groupedRequests(deploySample, 1)}.`,
      '',
    );
  return lines;
}

/** Section 5: peak RSS per script, bundle sizes and what fills the check bundle, the image. */
export function memoryAndSizeSection(r: FullBenchResults, rssMethod: string): Lines {
  const sizes = r.sizes;
  const kubectlRss = maxOrUndefined(r.put.reps.map((rep) => rep.theirs.peakRssKb));
  const image = sizes.image;
  const imageGrowth =
    image?.bytes === undefined || image.baseBytes === undefined ? undefined : image.bytes - image.baseBytes;
  return [
    '## 5. Peak RSS, bundle sizes, image',
    '',
    table(
      ['script', `peak RSS (${rssMethod})`, 'target'],
      [
        ...peakRssRows(r).map(([script, kb]) => [
          script,
          mb(kb),
          kb === undefined ? '–' : kb <= 100 * 1024 ? '≤ 100 MB ✓' : '> 100 MB ✗',
        ]),
        ['kubectl apply / rollout status (baseline)', mb(kubectlRss), ''],
      ],
    ),
    '',
    table(
      ['bundle', 'size', 'target'],
      [
        ...Object.entries(sizes.bundles).map(([script, bytes]) => [
          `assets/lib/${script}.cjs`,
          kib(bytes),
          bytes <= 5e6 ? '≤ 5 MB ✓' : '> 5 MB ✗',
        ]),
        ...Object.entries(sizes.sideModules ?? {}).map(([name, bytes]) => [
          `assets/lib/${name}.cjs (side module, loaded on first use)`,
          kib(bytes),
          '',
        ]),
      ],
    ),
    '',
    'The 10 largest inputs of the check bundle (esbuild metafile `assets/meta.json`, bytes in the minified output):',
    '',
    table(
      ['input', 'bytes in output'],
      sizes.checkTop.map((input) => [`\`${input.path}\``, kib(input.bytes)]),
    ),
    '',
    'The check bundle by package:',
    '',
    table(
      ['package', 'bytes in output', 'share'],
      sizes.byPackage
        .slice(0, 15)
        .map(([name, bytes]) => [name, kib(bytes), `${((100 * bytes) / sizes.bundles.check).toFixed(1)}%`]),
    ),
    '',
    image
      ? table(
          ['image', 'size', ''],
          [
            [
              image.name,
              kib(image.bytes),
              `built ${image.created?.slice(0, 19) ?? '?'}; ${ratio(image.bytes, image.baseBytes)} its base ` +
                `(+${kib(imageGrowth)})`,
            ],
            [`base: ${image.baseName}`, kib(image.baseBytes), `(${image.tool} image inspect)`],
          ],
        )
      : 'No image `localhost/kubernetes-deploy-resource:dev` in podman/buildah storage (run `npm run image:build`).',
    '',
  ];
}

/** 6a: a re-put that prunes an extra ConfigMap, ours beside kubectl apply --prune + rollout status. */
