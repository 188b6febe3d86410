// Reads kube-apiserver's audit log (JSON lines, level Metadata) from an offset and attributes each completed request to
// the bench identity (user name kdr-bench-PHASE) that made it.
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { auditLogPath } from '../../test/support/cluster.js';
import type { AuditRecord } from './results.js';

/** A ResponseComplete line of the audit log (the fields the bench reads). */
export interface AuditEvent extends Omit<AuditRecord, 'code'> {
  stage: string;
  user?: { username?: string };
  responseStatus?: { code?: number };
}

export interface AuditOffset {
  ino: number;
  size: number;
  since: number;
}

/** What describe() and summarize() read: a raw event or one kept in results.json. */
type Described = Pick<AuditRecord, 'verb' | 'requestURI' | 'objectRef' | 'userAgent'>;

/**
 * Where the audit log stands now: its inode and size. kube-apiserver rotates it at --audit-log-maxsize (renaming it to
 * audit-TIMESTAMP.log, same inode), so the reader finds the bytes written since by inode, not by name.
 */
export function auditOffset(): AuditOffset {
  const st = statSync(auditLogPath);
  return { ino: st.ino, size: st.size, since: Date.now() };
}

function readFrom(file: string, offset: number, byUser: Map<string, AuditEvent[]>): void {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const chunk = Buffer.alloc(8 << 20);
    let pos = offset;
    let rest = '';
    while (pos < size) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, size - pos), pos);
      if (n <= 0) break;
      pos += n;
      const text = rest + chunk.toString('utf8', 0, n);
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.includes('"kdr-bench-') || !line.includes('"ResponseComplete"')) continue;
        let ev: AuditEvent;
        try {
          ev = JSON.parse(line) as AuditEvent;
        } catch {
          continue;
        }
        const user = ev.user?.username;
        if (ev.stage !== 'ResponseComplete' || !user?.startsWith('kdr-bench-')) continue;
        byUser.set(user, [...(byUser.get(user) ?? []), ev]);
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Every ResponseComplete event of a kdr-bench-* user written after `start` (from auditOffset()), by user name. */
export function readBenchEvents(start: AuditOffset): Map<string, AuditEvent[]> {
  const byUser = new Map<string, AuditEvent[]>();
  const dir = dirname(auditLogPath);
  for (const name of readdirSync(dir)) {
    if (!/^audit.*\.log$/.test(name)) continue;
    const file = join(dir, name);
    const st = statSync(file);
    if (st.ino === start.ino) readFrom(file, start.size, byUser);
    else if (st.mtimeMs >= start.since) readFrom(file, 0, byUser); // written (rotated or new) since the start
  }
  for (const list of byUser.values())
    list.sort((a, b) => a.requestReceivedTimestamp.localeCompare(b.requestReceivedTimestamp));
  return byUser;
}

/** kubectl/v1.32.x (linux/amd64) kubernetes/… → kubectl; undici → undici; ours stays as is. */
export const agentName = (ua = ''): string => ua.split(/[\s/]/)[0] || '(none)';

export function isDiscovery(ev: Pick<Described, 'requestURI' | 'objectRef'>): boolean {
  const p = ev.requestURI.split('?')[0] ?? '';
  return (
    p === '/api' ||
    p === '/apis' ||
    (/^\/apis?\/[^/]+(\/[^/]+)?$/.test(p) && !ev.objectRef) ||
    p.startsWith('/openapi') ||
    p === '/version'
  );
}

/** "list secrets", "patch apps/deployments", "get /apis (discovery)", "watch pods", "get namespaces" … */
export function describe(ev: Described): string {
  const o = ev.objectRef;
  if (!o || !o.resource) {
    const path = ev.requestURI.split('?')[0];
    return `${ev.verb} ${path ?? ''}${isDiscovery(ev) ? ' (discovery)' : ''}`;
  }
  const res = `${o.apiGroup ? o.apiGroup + '/' : ''}${o.resource}${o.subresource ? '/' + o.subresource : ''}`;
  const q = ev.requestURI.includes('?') ? new URLSearchParams(ev.requestURI.split('?')[1]) : new URLSearchParams();
  const bits = [];
  if (o.name) bits.push(o.name);
  if (q.get('labelSelector')) bits.push('by label');
  if (q.get('fieldSelector')) bits.push(`field ${q.get('fieldSelector')}`);
  if (q.get('dryRun')) bits.push('dry-run');
  const propagation = q.get('propagationPolicy');
  if (ev.verb === 'delete' && propagation) bits.push(propagation);
  return `${ev.verb} ${res}${bits.length ? ` (${bits.join(', ')})` : ''}`;
}

export const usec = (ts: string): number =>
  Date.parse(ts) * 1000 + Number((ts.match(/\.(\d+)Z$/)?.[1] ?? '0').padEnd(6, '0').slice(3, 6));

export interface RequestSummary {
  total: number;
  byAgent: Record<string, number>;
  discovery: number;
  watches: number;
}

/** Counts of a list of events: in all, by user agent, discovery requests, watches. */
export function summarize(events: readonly Described[] = []): RequestSummary {
  const byAgent: Record<string, number> = {};
  let discovery = 0;
  let watches = 0;
  for (const ev of events) {
    const a = agentName(ev.userAgent);
    byAgent[a] = (byAgent[a] ?? 0) + 1;
    if (isDiscovery(ev)) discovery++;
    if (ev.verb === 'watch') watches++;
  }
  return { total: events.length, byAgent, discovery, watches };
}
