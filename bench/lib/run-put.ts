// npm run bench (bench/run.ts), section 2: put of a 3-object release (first: check needs a release that exists),
// ours vs kubectl apply + rollout status; ours also with the compile cache the image ships; then the no-op re-put of
// each way.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageCaches, type ImageCaches } from './image-caches.js';
import { run, sleep } from './proc.js';
import type { KubectlPut, KubectlReput, OurPut, OurReput, PutRep, PutResults } from './results.js';
import { concourseEnv, fail, request, type BenchRun } from './run-context.js';

const putParams = {
  image_ref: 'registry.example.com/bench/web:1.0',
  replicas: 2,
  host: 'web.bench.local',
  ingress_class: 'traefik',
};

/** Our put into a fresh namespace, timed against the bench's watch of the Deployment. */
async function ourPut(bench: BenchRun, label: string, idName: string, sources: string, caches?: ImageCaches) {
  const { ids, assets, newNamespace, observe, disrupted } = bench;
  const extraEnv = caches?.env ?? {};
  const ns = await newNamespace(label);
  const id = ids.get(idName);
  const seen = await observe(ns);
  const r = await run(caches?.script('out') ?? assets('out'), [sources], {
    input: request(id, ns, 'web', putParams),
    env: concourseEnv(extraEnv),
    rss: true,
  });
  await sleep(100);
  seen.stop();
  if (r.code !== 0) fail(`put (${idName})`, r);
  const d = seen.deployments.get('web') ?? {};
  if (d.createdAt === undefined || d.availableAt === undefined || d.completeAt === undefined)
    throw new Error(`put (${idName}): the bench's watch did not see the Deployment created and Available`);
  const clusterMs = d.availableAt - d.createdAt;
  const put: OurPut = {
    ns,
    user: id.user,
    ms: r.ms,
    peakRssKb: r.peakRssKb,
    clusterMs,
    completeMs: d.completeAt - d.createdAt,
    startToCreated: d.createdAt - r.startedAt,
    availableToExit: r.endedAt - d.availableAt,
    overheadMs: r.ms - clusterMs,
    disrupted: disrupted(r.startedAt, r.endedAt),
  };
  return { put, version: JSON.parse(r.stdout).version as unknown };
}

/** Our no-op re-put: the same request again into the release's namespace. */
async function ourReput(bench: BenchRun, ns: string, idName: string, sources: string, caches?: ImageCaches) {
  const { ids, assets, disrupted } = bench;
  const extraEnv = caches?.env ?? {};
  const id = ids.get(idName);
  const r = await run(caches?.script('out') ?? assets('out'), [sources], {
    input: request(id, ns, 'web', putParams),
    env: concourseEnv(extraEnv),
    rss: true,
  });
  if (r.code !== 0) fail(`re-put (${idName})`, r);
  const reput: OurReput = {
    user: id.user,
    ms: r.ms,
    peakRssKb: r.peakRssKb,
    disrupted: disrupted(r.startedAt, r.endedAt),
  };
  return reput;
}

/** The kubectl way: `kubectl apply -f file` then `kubectl rollout status`, two cold processes. */
async function kubectlApplyAndWait(bench: BenchRun, ns: string, file: string, applyName: string, rolloutName: string) {
  const { ids, kubectl } = bench;
  const applyId = ids.get(applyName);
  const rolloutId = ids.get(rolloutName);
  const apply = await kubectl(applyId, ['apply', '-n', ns, '-f', file], { rss: true });
  if (apply.code !== 0) fail('kubectl apply', apply);
  const rollout = await kubectl(rolloutId, ['rollout', 'status', '-n', ns, 'deployment/web', '--timeout=120s'], {
    rss: true,
  });
  if (rollout.code !== 0) fail('kubectl rollout status', rollout);
  return { applyId, rolloutId, apply, rollout };
}

/** The kubectl way of a put: `kubectl apply -f file` then `kubectl rollout status`, timed against the bench's watch. */
async function kubectlPut(bench: BenchRun, rep: number, file: string): Promise<KubectlPut> {
  const { newNamespace, observe, disrupted } = bench;
  const kns = await newNamespace(`kput${rep}`);
  const kseen = await observe(kns);
  const first = await kubectlApplyAndWait(bench, kns, file, `kubectl-apply-${rep}`, `kubectl-rollout-${rep}`);
  await sleep(100);
  kseen.stop();
  const kd = kseen.deployments.get('web') ?? {};
  if (kd.createdAt === undefined || kd.availableAt === undefined || kd.completeAt === undefined)
    throw new Error("kubectl put: the bench's watch did not see the Deployment created and Available");
  const kubectlWall = first.rollout.endedAt - first.apply.startedAt;
  const theirs: KubectlPut = {
    ns: kns,
    applyUser: first.applyId.user,
    rolloutUser: first.rolloutId.user,
    applyMs: first.apply.ms,
    rolloutMs: first.rollout.ms,
    ms: kubectlWall,
    clusterMs: kd.availableAt - kd.createdAt,
    completeMs: kd.completeAt - kd.createdAt,
    overheadMs: kubectlWall - (kd.availableAt - kd.createdAt),
    peakRssKb: Math.max(first.apply.peakRssKb ?? 0, first.rollout.peakRssKb ?? 0) || undefined,
    disrupted: disrupted(first.apply.startedAt, first.rollout.endedAt),
  };
  return theirs;
}

/** kubectl's no-op re-put: the same file applied again, then `kubectl rollout status`. */
async function kubectlReput(bench: BenchRun, kns: string, rep: number, file: string): Promise<KubectlReput> {
  const { disrupted } = bench;
  const second = await kubectlApplyAndWait(bench, kns, file, `kubectl-reapply-${rep}`, `kubectl-rerollout-${rep}`);
  const theirsAgain: KubectlReput = {
    applyUser: second.applyId.user,
    rolloutUser: second.rolloutId.user,
    applyMs: second.apply.ms,
    rolloutMs: second.rollout.ms,
    ms: second.rollout.endedAt - second.apply.startedAt,
    disrupted: disrupted(second.apply.startedAt, second.rollout.endedAt),
  };
  return theirsAgain;
}

export async function benchPut(bench: BenchRun, putReps: number): Promise<PutResults> {
  const { ids, work, snapshot, assets, say } = bench;
  const reps: PutRep[] = [];
  let manifests = '';
  // The code caches the image ships, made as the Dockerfile makes them.
  const caches = await imageCaches(snapshot, work);
  for (let rep = 1; rep <= putReps; rep++) {
    // ours, without and with the compile cache; which goes first alternates between reps
    const sources = mkdtempSync(join(work, 'sources-'));
    const plainFirst = rep % 2 === 1;
    const putPlain = () => ourPut(bench, `put${rep}`, `put-${rep}`, sources);
    const putCached = () => ourPut(bench, `putcc${rep}`, `put-cc-${rep}`, sources, caches);
    const plain = plainFirst ? await putPlain() : undefined;
    const cached = await putCached();
    const ours = plain ?? (await putPlain());

    // in: the release's YAML, for the kubectl way
    const dest = mkdtempSync(join(work, 'dest-'));
    const inId = ids.get(`in-${rep}`);
    const got = await run(assets('in'), [dest], {
      input: JSON.stringify({
        source: { ...inId.source, namespace: ours.put.ns, app: 'web' },
        version: ours.version,
        params: {},
      }),
      env: concourseEnv(),
      rss: true,
    });
    if (got.code !== 0) fail('in', got);
    const file = join(dest, 'manifests.yml');
    manifests = readFileSync(file, 'utf8');

    // the kubectl way: the same YAML, kubectl apply -f, then kubectl rollout status; each a cold process
    const theirs = await kubectlPut(bench, rep, file);

    // the no-op re-puts: ours (without and with the cache, alternating), then kubectl's apply of the same file again
    const reputPlain = () => ourReput(bench, ours.put.ns, `reput-${rep}`, sources);
    const reputCached = () => ourReput(bench, cached.put.ns, `reput-cc-${rep}`, sources, caches);
    const againPlain = plainFirst ? await reputPlain() : undefined;
    const againCached = await reputCached();
    const again = againPlain ?? (await reputPlain());
    const theirsAgain = await kubectlReput(bench, theirs.ns, rep, file);
    reps.push({
      ours: ours.put,
      oursCompileCache: cached.put,
      in: { user: inId.user, ms: got.ms, peakRssKb: got.peakRssKb },
      again,
      againCompileCache: againCached,
      theirs,
      theirsAgain,
    });
    say(
      `put rep ${rep}: overhead ours ${Math.round(ours.put.overheadMs)} ms, + cache ` +
        `${Math.round(cached.put.overheadMs)} ms, kubectl ${Math.round(theirs.overheadMs)} ms; no-op re-put ours ` +
        `${Math.round(again.ms)} ms, + cache ${Math.round(againCached.ms)} ms, ` +
        `kubectl ${Math.round(theirsAgain.ms)} ms`,
    );
  }
  writeFileSync(join(work, 'manifests.yml'), manifests);
  return { reps, checkNamespace: reps[0]!.ours.ns, manifests };
}
