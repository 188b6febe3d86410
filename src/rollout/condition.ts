// Pure: an object waited for by its `kubernetes-deploy-resource.io/wait-for: condition=<Type>` annotation (a custom
// resource: a Certificate, an ExternalSecret, an operator's database cluster). Done when the condition is True for the
// object's current generation; failed at once when it is False with a reason (unless that reason is named pending, or
// the object says it is still reconciling), or when kstatus's Stalled condition is True.
import type { KubeObject } from '../kube/object.js';
import { parseWaitFor, waitForAnnotation, type WaitForCondition } from '../manifests/wait-for.js';
import { done, notSeenYet, progressing, type Condition, type Meta, type Snapshot, type Verdict } from './snapshot.js';

interface ConditionStatus {
  observedGeneration?: unknown;
  conditions?: unknown;
}

/** The condition the annotation names, when it is there and valid (the manifests were checked when parsed). */
export function waitForConditionOf(object: KubeObject): WaitForCondition | undefined {
  const value = object.metadata.annotations?.[waitForAnnotation];
  if (value === undefined) return undefined;
  const parsed = parseWaitFor(value);
  return 'error' in parsed ? undefined : parsed;
}

/** The conditions of an untrusted status: only well-formed entries count. */
function conditionsOf(status: ConditionStatus): (Condition & { observedGeneration?: unknown })[] {
  const list = Array.isArray(status.conditions) ? (status.conditions as unknown[]) : [];
  return list.filter(
    (c): c is Condition => typeof c === 'object' && c !== null && typeof (c as Condition).type === 'string',
  );
}

const said = (c: Condition) =>
  [c.reason, c.message]
    .filter((s) => typeof s === 'string' && s.trim())
    .map((s) => s!.trim().slice(0, 500))
    .join(': ');

export function assessCondition(applied: KubeObject, snapshot: Snapshot): Verdict {
  const ref = `${applied.kind.toLowerCase()}/${applied.metadata.name}`;
  const wanted = waitForConditionOf(applied);
  if (!wanted) return done(`${ref}: not waited for`);
  const uid = (applied.metadata as Meta).uid;
  const live = snapshot.Custom.find(
    (o) =>
      o.apiVersion === applied.apiVersion &&
      o.kind === applied.kind &&
      o.metadata.name === applied.metadata.name &&
      (!uid || (o.metadata as Meta).uid === uid),
  );
  if (!live) return notSeenYet(ref);
  const generation = Math.max((live.metadata as Meta).generation ?? 0, (applied.metadata as Meta).generation ?? 0);
  const status = (typeof live.status === 'object' && live.status !== null ? live.status : {}) as ConditionStatus;
  const waiting = `${ref}: waiting for condition ${wanted.type}`;
  // kstatus: a status that says which generation it describes is judged only once it describes ours.
  const stale = (observed: unknown) => typeof observed === 'number' && observed < generation;
  if (stale(status.observedGeneration))
    return progressing(`${waiting} (its controller has not observed generation ${generation} yet)`);
  const conditions = conditionsOf(status);
  const stalled = conditions.find((c) => c.type === 'Stalled' && c.status === 'True' && !stale(c.observedGeneration));
  if (stalled)
    return { state: 'failed', message: `${ref} failed: Stalled${said(stalled) ? `: ${said(stalled)}` : ''}` };
  const condition = conditions.find((c) => c.type === wanted.type);
  if (!condition) return progressing(`${waiting} (not reported yet)`);
  if (stale(condition.observedGeneration))
    return progressing(
      `${waiting} (it describes generation ${String(condition.observedGeneration)}, not ${generation})`,
    );
  if (condition.status === 'True') return done(`${ref}: condition ${wanted.type} is True`);
  const reconciling = conditions.some((c) => c.type === 'Reconciling' && c.status === 'True');
  const reason = typeof condition.reason === 'string' ? condition.reason : '';
  if (condition.status === 'False' && reason && !wanted.pending.includes(reason) && !reconciling)
    return { state: 'failed', message: `${ref} failed: condition ${wanted.type} is False: ${said(condition)}` };
  const now = `${String(condition.status ?? 'Unknown')}${said(condition) ? `: ${said(condition)}` : ''}`;
  return progressing(`${waiting} (now ${now})`);
}
