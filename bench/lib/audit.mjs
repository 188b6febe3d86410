// Reads kube-apiserver's audit log (JSON lines, level Metadata) from an offset and attributes each completed request to
// the bench identity (user name kdr-bench-PHASE) that made it.
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { auditLogPath } from './cluster.mjs';

/**
 * Where the audit log stands now: its inode and size. kube-apiserver rotates it at --audit-log-maxsize (renaming it to
 * audit-TIMESTAMP.log, same inode), so the reader finds the bytes written since by inode, not by name.
 */
export function auditOffset() {
  const st = statSync(auditLogPath);
  return { ino: st.ino, size: st.size, since: Date.now() };
}

function readFrom(file, offset, byUser) {
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
      rest = lines.pop();
      for (const line of lines) {
        if (!line.includes('"kdr-bench-') || !line.includes('"ResponseComplete"')) continue;
        let ev;
        try {
          ev = JSON.parse(line);
        } catch {
          continue;
        }
        if (ev.stage !== 'ResponseComplete' || !ev.user?.username?.startsWith('kdr-bench-')) continue;
        if (!byUser.has(ev.user.username)) byUser.set(ev.user.username, []);
        byUser.get(ev.user.username).push(ev);
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Every ResponseComplete event of a kdr-bench-* user written after `start` (from auditOffset()), by user name. */
export function readBenchEvents(start) {
  const byUser = new Map();
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
export const agentName = (ua = '') => ua.split(/[\s/]/)[0] || '(none)';

export function isDiscovery(ev) {
  const p = ev.requestURI.split('?')[0];
  return (
    p === '/api' ||
    p === '/apis' ||
    (/^\/apis?\/[^/]+(\/[^/]+)?$/.test(p) && !ev.objectRef) ||
    p.startsWith('/openapi') ||
    p === '/version'
  );
}

/** "list secrets", "patch apps/deployments", "get /apis (discovery)", "watch pods", "get namespaces" … */
export function describe(ev) {
  const o = ev.objectRef;
  if (!o || !o.resource) {
    const path = ev.requestURI.split('?')[0];
    return `${ev.verb} ${path}${isDiscovery(ev) ? ' (discovery)' : ''}`;
  }
  const res = `${o.apiGroup ? o.apiGroup + '/' : ''}${o.resource}${o.subresource ? '/' + o.subresource : ''}`;
  const q = ev.requestURI.includes('?') ? new URLSearchParams(ev.requestURI.split('?')[1]) : new URLSearchParams();
  const bits = [];
  if (o.name) bits.push(o.name);
  if (q.get('labelSelector')) bits.push('by label');
  if (q.get('fieldSelector')) bits.push(`field ${q.get('fieldSelector')}`);
  if (q.get('dryRun')) bits.push('dry-run');
  if (ev.verb === 'delete' && q.get('propagationPolicy')) bits.push(q.get('propagationPolicy'));
  return `${ev.verb} ${res}${bits.length ? ` (${bits.join(', ')})` : ''}`;
}

export const usec = (ts) =>
  Date.parse(ts) * 1000 + Number((ts.match(/\.(\d+)Z$/)?.[1] ?? '0').padEnd(6, '0').slice(3, 6));

/** { total, byAgent: {agent: n}, discovery, watches } for a list of events. */
export function summarize(events = []) {
  const byAgent = {};
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
