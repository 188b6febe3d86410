// `kubernetes-deploy-resource.io/wait-for: condition=Ready`: an object of the release (a custom resource: a
// Certificate, an ExternalSecret, a database operator's cluster) that the put waits for until its condition is True.
// The syntax is kubectl wait's `--for=condition=Ready`; `pending=` names the False reasons that only mean "not yet".
import { ourKey } from '../kube/labels.js';

export const waitForAnnotation = ourKey('wait-for');

export interface WaitForCondition {
  /** The condition type that must be True (`Ready`, `Available`, `Synced`…). */
  type: string;
  /** Reasons of a False condition that mean "still working" (cert-manager's `DoesNotExist` while it issues). */
  pending: string[];
}

// Condition types and reasons are CamelCase words by the API conventions; a qualified type may hold a prefix.
const conditionType = /^[A-Za-z][A-Za-z0-9_.\-/]{0,315}$/;
const reason = /^[A-Za-z][A-Za-z0-9_.:-]{0,1023}$/;
/** At most this many pending reasons: a list, not a program. */
export const maxPendingReasons = 20;

/** The annotation's value parsed, or why it is not one (the caller names the object and the annotation). */
export function parseWaitFor(value: string): WaitForCondition | { error: string } {
  const syntax = 'expected "condition=<Type>" or "condition=<Type>,pending=<Reason>|<Reason>"';
  const [first, ...rest] = value.trim().split(',');
  const type = /^condition=(.*)$/.exec(first!.trim())?.[1];
  if (type === undefined) return { error: `${JSON.stringify(value)}: ${syntax}` };
  if (!conditionType.test(type)) return { error: `${JSON.stringify(type)} is not a condition type (${syntax})` };
  if (rest.length > 1) return { error: `${JSON.stringify(value)}: ${syntax}` };
  if (!rest.length) return { type, pending: [] };
  const pending = /^pending=(.*)$/.exec(rest[0]!.trim())?.[1];
  if (pending === undefined) return { error: `${JSON.stringify(value)}: ${syntax}` };
  const reasons = pending.split('|').map((r) => r.trim());
  const bad = reasons.find((r) => !reason.test(r));
  if (bad !== undefined) return { error: `${JSON.stringify(bad)} is not a condition reason (${syntax})` };
  if (reasons.length > maxPendingReasons) return { error: `at most ${maxPendingReasons} pending reasons` };
  return { type, pending: reasons };
}
