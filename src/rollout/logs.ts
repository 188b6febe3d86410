// The app's own last words: the tail of a failed container's log, bounded, made safe to print, and said plainly when
// it cannot be read. A log is what the container wrote, so it is untrusted input: control characters go, lines and
// bytes are bounded, and the whole failure message passes through the redactor like every other line.
import type { ClusterApi } from '../cluster/api.js';
import { ApiRejectedError, ClusterConnectionError } from '../errors.js';
import { sleep, type Clock } from '../time.js';

/** Which log a failure should end with: the previous instance of a restarting container is the one that crashed. */
export interface LogSource {
  pod: string;
  container: string;
  previous: boolean;
}

/** The bounds of a log tail in a failure message (README, "The app's own last words"). */
export const logTail = {
  lines: 20,
  /** Of the tail, whole lines up to this many bytes (UTF-8) from the end. */
  bytes: 4096,
  /** What the server is asked for at most: it cuts the tail's end there, so it must hold the last lines whole. */
  requestBytes: 64 * 1024,
  /** A log that does not come within this long (or by the put's deadline) is reported as unreadable. */
  readMs: 5000,
} as const;

/** Control characters (ANSI colour codes, carriage returns, NULs) other than tab: a log must not rewrite the screen. */
const controlCharacters = /\u001b\[[0-9;?]*[ -/]*[@-~]|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * The last lines of a log, within the bounds, each safe to print; empty lines at the end dropped. Lines are never cut:
 * the redactor finds a credential only whole, so a cut one could leak its first half. A line longer than the whole
 * budget is named, not shown; a last line the server cut at `requestBytes` is dropped.
 */
export function tailLines(text: string, bounds: Pick<typeof logTail, 'lines' | 'bytes' | 'requestBytes'> = logTail) {
  const raw = text.split('\n');
  if (Buffer.byteLength(text) >= bounds.requestBytes && raw.length > 1) raw.pop();
  const lines = raw.map((line) => line.replace(controlCharacters, '').trimEnd());
  while (lines.length && lines.at(-1) === '') lines.pop();
  const kept: string[] = [];
  let bytes = 0;
  for (const line of lines.slice(-bounds.lines).reverse()) {
    const size = Buffer.byteLength(line);
    const shown = size > bounds.bytes ? `[a line of ${size} bytes, longer than ${bounds.bytes}: not shown]` : line;
    bytes += Buffer.byteLength(shown) + 1;
    if (bytes > bounds.bytes && kept.length) break;
    kept.unshift(shown);
  }
  return kept;
}

const which = (source: LogSource) =>
  `container ${source.container}${source.previous ? ' (its previous run, the one that exited)' : ''}`;

/** Joins the log lines on the error's one line (the protocol's promise): a mark no log line is likely to hold. */
export const lineMark = ' ⏎ ';

/** "; last 3 log lines of container web (…): first ⏎ second ⏎ third" — or why there are none. Pure. */
export function describeLogTail(source: LogSource, text: string): string {
  const lines = tailLines(text);
  if (!lines.length) return `; ${which(source)} wrote nothing to its log`;
  const count = lines.length === 1 ? 'last log line' : `last ${lines.length} log lines`;
  return `; ${count} of ${which(source)}: ${lines.join(lineMark)}`;
}

/** Why a log could not be read, in words a user without kubectl can act on. Pure. */
export function describeLogError(source: LogSource, namespace: string, error: unknown): string {
  const detail = (error instanceof Error ? error.message : String(error)).slice(0, 300);
  const prefix = `; the log of ${which(source)} could not be read`;
  if (error instanceof ApiRejectedError && error.status === 403)
    return `${prefix}: the credentials may not get pods/log in namespace ${namespace} (add it to the Role): ${detail}`;
  if (error instanceof ClusterConnectionError)
    return `${prefix}: the API server could not get it from the node's kubelet (is the kubelet reachable?): ${detail}`;
  return `${prefix}: ${detail}`;
}

/**
 * Reads the tail of the log and says it (or why it could not be read), never failing and never past `giveUpAt`. A
 * previous instance the kubelet no longer has (400: "previous terminated container … not found") falls back to the
 * current one.
 */
export async function readLogTail(
  cluster: ClusterApi,
  namespace: string,
  source: LogSource,
  options: { clock: Clock; giveUpAt: number },
): Promise<string> {
  const ask = (previous: boolean) =>
    cluster.podLog(namespace, source.pod, {
      container: source.container,
      previous,
      tailLines: logTail.lines,
      limitBytes: logTail.requestBytes,
    });
  const read = async (): Promise<string> => {
    try {
      return describeLogTail(source, await ask(source.previous));
    } catch (error) {
      if (source.previous && error instanceof ApiRejectedError && error.status === 400) {
        const current = { ...source, previous: false };
        return ask(false).then(
          (text) => describeLogTail(current, text),
          (again: unknown) => describeLogError(current, namespace, again),
        );
      }
      return describeLogError(source, namespace, error);
    }
  };
  const waitMs = Math.max(0, Math.min(logTail.readMs, options.giveUpAt - options.clock.now()));
  const controller = new AbortController();
  const late = sleep(waitMs, options.clock, controller.signal).then(
    () =>
      `; the log of ${which(source)} could not be read ` +
      (waitMs < logTail.readMs ? "before the put's timeout" : `within ${logTail.readMs / 1000}s`),
    () => '',
  );
  try {
    return await Promise.race([read(), late]);
  } finally {
    controller.abort();
  }
}
