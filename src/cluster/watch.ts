// A watch as the API server streams it: one JSON event per line, the objects given back their apiVersion and kind;
// its end (closed, cut, idle, refused) handed to the caller, who resumes it.
import type { ClusterApi, WatchEvent } from './api.js';
import type { Discovery } from './discovery.js';
import { describeNetworkError, errorForStatus, StepTimeoutError } from './errors.js';
import type { Requests } from './requests.js';
import type { Transport } from './transport.js';
import type { KubeObject } from '../kube/object.js';
import type { Logger } from '../log.js';

export interface WatchContext {
  server: string;
  transport: Transport;
  userAgent: string;
  log: Logger;
  pathFor: Discovery['pathFor'];
  statusError: Requests['statusError'];
}

/** Without a byte for this long (bookmarks come every minute or so), the watch is taken for dead and resumed. */
const watchIdleMs = 90_000;

export async function watchObjects(
  context: WatchContext,
  ...[apiVersion, kind, namespace, opts, onEvent, onEnd]: Parameters<ClusterApi['watch']>
): ReturnType<ClusterApi['watch']> {
  const { server, log, statusError } = context;
  const path = await context.pathFor({ apiVersion, kind, namespace });
  const query: Record<string, string> = { allowWatchBookmarks: 'true' };
  if (opts.labelSelector) query.labelSelector = opts.labelSelector;
  if (opts.fieldSelector) query.fieldSelector = opts.fieldSelector;
  if (opts.resourceVersion) query.resourceVersion = opts.resourceVersion;
  const url = new URL(server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries({ ...query, watch: 'true' })) url.searchParams.set(k, v);
  const what = `watch ${kind.toLowerCase()}s${namespace ? ` in namespace ${namespace}` : ''}`;
  const onLine = (line: string) => {
    let event: { type?: string; object?: KubeObject };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return; // a partial line of a cut stream
    }
    if (event.type && event.object)
      onEvent({ type: event.type as WatchEvent['type'], object: { ...event.object, apiVersion, kind } });
  };
  const onStreamEnd = (error?: unknown) => {
    // A refused watch (403, 404, 410…) ends with the HTTP status: make it one of ours.
    const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
    // A watch cut by a bound is worth a line: the caller resumes it, but the network is misbehaving.
    if (error instanceof StepTimeoutError) log.info(`${what} ended: ${describeNetworkError(error, server).message}`);
    // A 401 names where our credentials came from, which may need the exec plugin's answer: asynchronous.
    if (status === 401) void statusError(status, undefined, what).then(onEnd, onEnd);
    else onEnd(typeof status === 'number' ? errorForStatus(status, undefined, what, server) : error);
  };
  const headers = { Accept: 'application/json', 'User-Agent': context.userAgent };
  const stop = context.transport.stream(url, headers, onLine, onStreamEnd, watchIdleMs);
  return { stop };
}
