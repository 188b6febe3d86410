// The shared parts of bench/RESULTS.md's sections: audit events per identity and the request lists.
import { agentName, describe, isDiscovery, usec, type RequestSummary } from './audit.js';
import { table } from './format.js';
import { median } from './proc.js';
import type { AuditRecord, BenchResults } from './results.js';

export type Lines = string[];

/** The audit events of one identity (none when it made no request or there is no such user). */
export const eventsOf = (r: BenchResults, user: string | undefined): AuditRecord[] =>
  user ? (r.audit[user] ?? []) : [];
export const requestCount = (r: BenchResults, user: string) => eventsOf(r, user).length;
export const requestsOfAll = (r: BenchResults, users: Record<string, string>) =>
  Object.values(users).reduce((total, user) => total + requestCount(r, user), 0);
export const byAgent = (summary: RequestSummary) =>
  Object.entries(summary.byAgent)
    .map(([agent, n]) => `${agent} ${n}`)
    .join(', ') || '–';
export const medianOrUndefined = (xs: number[]) => (xs.length ? median(xs) : undefined);
export const maxOrUndefined = (xs: (number | undefined)[]) => Math.max(0, ...xs.map((x) => x ?? 0)) || undefined;

// ---- request lists

/** Every request of one process, in order, with start and server time relative to the first. */
export function requestList(events: readonly AuditRecord[]): string {
  if (!events.length) return '(no audit events)';
  const first = usec(events[0]!.requestReceivedTimestamp);
  return table(
    ['#', 'start (ms)', 'server time (ms)', 'request', 'code', 'user agent'],
    events.map((event, i) => {
      const start = (usec(event.requestReceivedTimestamp) - first) / 1000;
      const serverTime = (usec(event.stageTimestamp) - usec(event.requestReceivedTimestamp)) / 1000;
      return [
        i + 1,
        start.toFixed(1),
        event.verb === 'watch' ? `${serverTime.toFixed(0)} (open)` : serverTime.toFixed(1),
        `\`${describe(event)}\``,
        event.code ?? '',
        agentName(event.userAgent),
      ];
    }),
  );
}

/** Requests grouped by description, as counts per run (app and namespace names generalised to APP and NS). */
export function groupedRequests(events: readonly AuditRecord[] | undefined, runs: number): string {
  const counts = new Map<string, number>();
  const discoveryRoots = new Map<string, number>();
  let groupVersions = 0;
  for (const event of events ?? []) {
    if (isDiscovery(event)) {
      const path = event.requestURI.split('?')[0] ?? '';
      if (/^\/apis?\/[^/]+/.test(path) && !path.startsWith('/openapi')) groupVersions++;
      else discoveryRoots.set(path, (discoveryRoots.get(path) ?? 0) + 1);
      continue;
    }
    const key = describe(event).replace(
      /\(([^)]*)\)/,
      (_, inner: string) =>
        `(${inner.replace(/\b(r\d+|web)\b/g, 'APP').replace(/kdr-bench-[a-z0-9]+-[a-z0-9]+/g, 'NS')})`,
    );
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const times = (n: number) => (n / runs !== 1 ? ` ×${+(n / runs).toFixed(2)}` : '');
  const discovery = [
    ...[...discoveryRoots].map(([path, n]) => `GET ${path}${times(n)}`),
    ...(groupVersions ? [`GET /api/v1 + /apis/GROUP/VERSION ×${+(groupVersions / runs).toFixed(2)}`] : []),
  ];
  return [
    ...(discovery.length ? [`discovery: ${discovery.join(', ')}`] : []),
    ...[...counts].map(([key, n]) => `\`${key}\`${times(n)}`),
  ].join('; ');
}

/** Requests made more than once in one process (same verb, resource and name or selector). */
export function repeatedRequests(events: readonly AuditRecord[]): string {
  const counts = new Map<string, number>();
  for (const event of events)
    if (event.verb !== 'watch') counts.set(describe(event), (counts.get(describe(event)) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1);
  return repeated.length ? repeated.map(([key, n]) => `\`${key}\` ×${n}`).join(', ') : 'none';
}

/** How many of the non-watch requests overlapped another one in time. */
export function overlappingRequests(events: readonly AuditRecord[]): { requests: number; overlapped: number } {
  const spans = events
    .filter((event) => event.verb !== 'watch')
    .map((event) => [usec(event.requestReceivedTimestamp), usec(event.stageTimestamp)] as const);
  const overlapped = spans.filter((a, i) => spans.some((b, j) => j !== i && b[0] < a[1] && a[0] < b[1])).length;
  return { requests: spans.length, overlapped };
}
