// What the rollout wait says: a progress line whenever a workload's state changes, what it was still waiting for at
// a timeout, and each failure with the events and the log lines that explain it (read from the cluster).
import type { Judged, Failure, FailedVerdict } from './judge.js';
import { readLogTail } from './logs.js';
import { describeEvents } from './pods.js';
import type { ClusterApi } from '../cluster/api.js';
import type { Logger } from '../log.js';
import { objectRef, type KubeObject } from '../kube/object.js';
import { TimedOutError } from '../errors.js';
import { Deadline, pollUntil } from '../time.js';

/** The progress lines of one wait: each workload's message once, when it changes. */
export class ProgressLines {
  private readonly last = new Map<string, Judged[1]>();

  constructor(private readonly log: Logger) {}

  /** Logs what changed; a failure is left to the error, a workload not delivered yet (`quiet`) to the timeout. */
  report(verdicts: readonly Judged[]): void {
    for (const [ref, verdict] of verdicts) {
      if (verdict.state === 'failed') continue;
      const quiet = verdict.state === 'progressing' && verdict.quiet;
      if (!quiet && this.last.get(ref)?.message !== verdict.message) this.log.info(verdict.message);
      this.last.set(ref, verdict);
    }
  }

  /** "waiting for the rollout: …" with the last word on every workload not done, for the timeout. */
  waitingFor(): string {
    const waiting = [...this.last.values()]
      .filter((v) => v.state !== 'done')
      .map((v) => v.message)
      .join('; ');
    return `waiting for the rollout${waiting ? `: ${waiting}` : ''}`;
  }
}

export interface FailureContext {
  cluster: ClusterApi;
  namespace: string;
  /** The put's deadline: reading events and logs never outlasts it. */
  deadline: Deadline;
  /** How long a failure whose object has no events yet waits for them. */
  eventsGraceMs: number;
  signal?: AbortSignal;
}

/** "…; recent events: …; last log lines of container …" for a failure whose events and log explain it. */
export async function describeFailure(verdict: FailedVerdict, context: FailureContext): Promise<string> {
  const { cluster, namespace, deadline } = context;
  const [explained, log] = await Promise.all([
    withEvents(verdict, context),
    verdict.logsOf
      ? readLogTail(cluster, namespace, verdict.logsOf, { clock: deadline.clock, giveUpAt: deadline.at })
      : '',
  ]);
  return explained + log;
}

async function withEvents(verdict: FailedVerdict, context: FailureContext): Promise<string> {
  if (!verdict.eventsOf) return verdict.message;
  const { cluster, namespace, deadline, signal } = context;
  const { kind, name } = verdict.eventsOf;
  const clock = deadline.clock;
  const eventsOf = () =>
    cluster
      .list('v1', 'Event', namespace, undefined, `involvedObject.kind=${kind},involvedObject.name=${name}`)
      .then((l) => l.items)
      .catch(() => []);
  // The kubelet writes a Pod's status and the events that explain it separately, either first: a failure seen
  // before its events waits a moment for them (never past the deadline), so the message says why.
  // Without them by the end of that moment, the message goes without: the grace running out is not an error.
  const grace = new Deadline(clock, Math.min(context.eventsGraceMs, deadline.remainingMs()));
  const events = await pollUntil(
    async () => {
      const found = await eventsOf();
      return found.length ? found : undefined;
    },
    {
      deadline: grace,
      clock,
      ...(signal ? { signal } : {}),
      intervalMs: 250,
      waitingFor: () => `events of ${kind}/${name}`,
    },
  ).catch((error: unknown) => {
    if (error instanceof TimedOutError) return [];
    throw error;
  });
  const recent = describeEvents(events);
  return recent ? `${verdict.message}; recent events: ${recent}` : verdict.message;
}

/**
 * Every workload failed by now, each described, in the release's order: the `first` failures, and those `rejudge`
 * finds after their events were read (what arrived meanwhile counts).
 */
export async function describeFailures(
  workloads: KubeObject[],
  first: Failure[],
  rejudge: () => Failure[],
  describe: (verdict: FailedVerdict) => Promise<string>,
): Promise<string[]> {
  const described = new Map(await Promise.all(first.map(async ([ref, v]) => [ref, await describe(v)] as const)));
  const later = rejudge().filter(([ref]) => !described.has(ref));
  for (const [ref, v] of later) described.set(ref, await describe(v));
  return workloads.map(objectRef).flatMap((ref) => (described.has(ref) ? [described.get(ref)!] : []));
}
