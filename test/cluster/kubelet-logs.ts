// The kubelet stand-in's log endpoint: what a kubelet serves the API server for `pods/{name}/log` (docs/cluster.md).
//
// The API server does not store logs: for GET …/pods/{name}/log it connects to the node's kubelet (the Node's
// InternalIP and status.daemonEndpoints.kubeletEndpoint.Port, over HTTPS with its --kubelet-client-certificate) and
// streams GET /containerLogs/{namespace}/{pod}/{container}?tailLines=&limitBytes=&previous= back. This server answers
// that request as a kubelet does, from what the stand-in's containers "printed": a deterministic text per image name
// (printedLines below), so tests can expect it word for word.
//
// Imported by kubelet-standin.ts; run nothing here on import.

import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';

type Json = Record<string, any>;

/** The variable whose value a container prints first, line by line (docs/cluster.md, "What containers print"). */
export const printVariable = 'TEST_PRINT';

/**
 * The lines a container of this image "prints" in one run: the lines of its TEST_PRINT variable if set (how a test
 * makes an app say something: a secret canary, a long line, control characters), then a text per image name. The
 * real test images (scripts/kind/test-images/Dockerfile) print the same, so a test expects it word for word with
 * either kubelet. `exitsWith`: the run ended with this code.
 */
export function printedLines(image: string, env: Json[], exitsWith?: number): string[] {
  const repository = image.split('@')[0]!.replace(/:[^/:]*$/, '');
  const said = env.find((e) => e?.name === printVariable && typeof e.value === 'string')?.value as string | undefined;
  const lines = said ? said.split('\n') : [];
  if (repository.includes('crashing') || repository.includes('fails'))
    lines.push('connecting to db:5432', 'error: cannot connect to db:5432: connection refused');
  else if (repository.includes('hanging')) lines.push('waiting for db:5432 to accept connections');
  else lines.push('listening on :8080');
  if (exitsWith !== undefined) lines.push(`exiting with code ${exitsWith}`);
  return lines;
}

/** The statuses of every container of a Pod (init containers too), by name. */
function statusOf(pod: Json, container: string): Json | undefined {
  const all: Json[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return all.find((c) => c.name === container);
}

/**
 * The log of one container as a kubelet would serve it, or the kubelet's 400 when there is none: a container that
 * never started ("is waiting to start"), a previous run that does not exist ("previous terminated container … not
 * found").
 */
export function containerLog(pod: Json, name: string, previous: boolean): { status: number; text: string } {
  const spec: Json | undefined = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
    (c: Json) => c.name === name,
  );
  const podName = pod.metadata?.name;
  if (!spec) return { status: 400, text: `container ${name} is not valid for pod ${podName}` };
  const status = statusOf(pod, name);
  const state: Json = status?.state ?? {};
  const restarts: number = status?.restartCount ?? 0;
  const lastExit: number | undefined = status?.lastState?.terminated?.exitCode;
  // As a kubelet: a container waiting to restart serves its last run's log; one that never ran has none.
  let exitCode: number | undefined;
  if (previous) {
    if (restarts === 0 || lastExit === undefined)
      return { status: 400, text: `previous terminated container "${name}" in pod "${podName}" not found` };
    exitCode = lastExit;
  } else if (state.running || state.terminated) {
    exitCode = state.terminated?.exitCode;
  } else if (lastExit !== undefined) {
    exitCode = lastExit;
  } else {
    const reason = state.waiting?.reason ?? 'ContainerCreating';
    const why = /ImagePull|ErrImage/.test(reason) ? 'trying and failing to pull image' : reason;
    return { status: 400, text: `container "${name}" in pod "${podName}" is waiting to start: ${why}` };
  }
  const env: Json[] = Array.isArray(spec.env) ? (spec.env as Json[]) : [];
  return { status: 200, text: printedLines(spec.image ?? '', env, exitCode).join('\n') + '\n' };
}

/** The last `tailLines` lines, then the first `limitBytes` bytes of them: the kubelet's order of the two. */
export function limitLog(text: string, tailLines?: number, limitBytes?: number): string {
  let out = text;
  if (tailLines !== undefined) {
    const lines = out.split('\n');
    if (lines.at(-1) === '') lines.pop();
    out = tailLines === 0 ? '' : lines.slice(-tailLines).join('\n') + '\n';
  }
  if (limitBytes !== undefined) out = Buffer.from(out).subarray(0, limitBytes).toString('utf8');
  return out;
}

const whole = (value: string | null) => (value !== null && /^\d+$/.test(value) ? Number(value) : undefined);

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Serves /containerLogs/… over HTTPS on 127.0.0.1:`port`, only to clients with a certificate of the cluster CA (the
 * API server's --kubelet-client-certificate), as a kubelet with x509 client authentication does.
 */
export function serveContainerLogs(options: {
  port: number;
  cert: string | Buffer;
  key: string | Buffer;
  ca: string | Buffer;
  /** The Pod as the stand-in last saw it (its status as the stand-in wrote it). */
  find: (namespace: string, pod: string) => Json | undefined;
  log: (message: string) => void;
}): Promise<https.Server> {
  const server = https.createServer(
    { cert: options.cert, key: options.key, ca: options.ca, requestCert: true, rejectUnauthorized: true },
    (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'https://kubelet');
      const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (req.method !== 'GET' || !match) return answer(res, 404, '404 page not found\n');
      const [namespace, pod, container] = match.slice(1).map(decodeURIComponent) as [string, string, string];
      const found = options.find(namespace, pod);
      if (!found) return answer(res, 404, `pod "${pod}" in namespace "${namespace}" not found\n`);
      const log = containerLog(found, container, url.searchParams.get('previous') === 'true');
      options.log(`containerLogs ${namespace}/${pod}/${container}${url.search}: ${log.status}`);
      if (log.status !== 200) return answer(res, log.status, log.text);
      const tail = whole(url.searchParams.get('tailLines'));
      answer(res, 200, limitLog(log.text, tail, whole(url.searchParams.get('limitBytes'))));
    },
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve(server));
  });
}
