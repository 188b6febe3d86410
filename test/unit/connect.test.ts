// connectCluster over the real transport (node:https, the proxy agents, the exec plugin runner) against stand-in API
// servers on 127.0.0.1, in process: each way of authenticating and of reaching the server, the retry loop and the
// bounds, and what the requests look like on the wire. The scripts' own runs of these paths are in the contract and
// integration suites; these pin the client's steps one by one.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { resolveClusterAuth, type ClusterAuth } from '../../src/cluster/auth.js';
import { connectCluster, type NetworkEnv } from '../../src/cluster/client.js';
import { createTransport } from '../../src/cluster/transport.js';
import { kubeConfigFor } from '../../src/cluster/kubeconfig.js';
import { BadRequestError, ClusterConnectionError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';
import { parseCheckRequest } from '../../src/request/parse.js';
import {
  loopbackPki,
  proxiedHost,
  startConnectProxy,
  startSocksProxy,
  type ConnectProxy,
  type SocksProxy,
} from '../support/loopback-servers.js';

const token = 'connect-test-token-0123456789';
const caData = () => Buffer.from(loopbackPki().caPem).toString('base64');
const plugin = join(import.meta.dirname, '..', 'fixtures', 'exec-plugins', 'token-plugin.mjs');

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
type Handler = (seen: Seen, res: ServerResponse) => void;

interface StandIn {
  url: string;
  port: number;
  seen: Seen[];
  /** TCP connections accepted (a kept-alive connection serves many requests). */
  connections(): number;
  close(): Promise<void>;
}

let closables: { close(): Promise<void> }[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(closables.map((c) => c.close()));
  closables = [];
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An API server stand-in on 127.0.0.1 with the loopback certificate; `handler` answers (default: an empty list). */
async function standIn(handler: Handler = emptyList): Promise<StandIn> {
  const seen: Seen[] = [];
  let connections = 0;
  const { certPem, keyPem } = loopbackPki();
  const server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const one = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' };
      one.body = Buffer.concat(chunks).toString('utf8');
      seen.push(one);
      handler(one, res);
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  const result = { url: `https://127.0.0.1:${port}`, port, seen, connections: () => connections, close };
  closables.push(result);
  return result;
}

function emptyList(_seen: Seen, res: ServerResponse) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]}');
}

function answer(status: number, body: unknown, headers: Record<string, string> = {}) {
  return (res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

const authOf = (source: Record<string, unknown>): ClusterAuth =>
  resolveClusterAuth(parseCheckRequest({ source: { app: 'web', namespace: 'staging', ...source } }).source);
const direct = (url: string, extra: Record<string, unknown> = {}) =>
  authOf({ cluster_url: url, cluster_ca: caData(), token, ...extra });
const network = (extra: Partial<NetworkEnv> = {}): NetworkEnv => ({
  proxy: {},
  inCluster: {},
  pluginEnv: {},
  ...extra,
});

function kubeconfig(server: string, user: string, proxyUrl?: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'current-context: c',
    `clusters: [{name: k, cluster: {server: "${server}", certificate-authority-data: ${caData()}` +
      `${proxyUrl ? `, proxy-url: "${proxyUrl}"` : ''}}}]`,
    `users: [{name: u, user: ${user}}]`,
    'contexts: [{name: c, context: {cluster: k, user: u}}]',
  ].join('\n');
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kdr-connect-'));
  dirs.push(dir);
  return dir;
}

describe('direct credentials (cluster_url, cluster_ca, token)', () => {
  test('send the token over TLS to the CA of the source, on one kept-alive connection', async () => {
    const server = await standIn();
    const cluster = connectCluster(direct(server.url), { log: memoryLogger(), userAgent: 'kdr-test' });
    expect(cluster.server).toBe(server.url);
    const first = await cluster.list('v1', 'Secret', 'staging', 'a=b');
    await cluster.list('v1', 'Secret', 'staging');
    expect(first).toEqual({ items: [], resourceVersion: '7' });
    expect(server.seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'GET /api/v1/namespaces/staging/secrets?labelSelector=a%3Db',
      'GET /api/v1/namespaces/staging/secrets',
    ]);
    expect(server.seen.map((s) => s.headers.authorization)).toEqual([`Bearer ${token}`, `Bearer ${token}`]);
    expect(server.seen[0]!.headers['user-agent']).toBe('kdr-test');
    expect(server.seen[0]!.headers.accept).toBe('application/json');
    expect(server.connections()).toBe(1);
  });

  test('writes: a JSON body of its content type with an explicit length, the field manager in the query', async () => {
    const server = await standIn((seen, res) =>
      answer(200, seen.body ? JSON.parse(seen.body) : { kind: 'Status' })(res),
    );
    const cluster = connectCluster(direct(server.url), { log: memoryLogger() });
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'staging' } };
    expect(await cluster.apply(object)).toEqual(object);
    await cluster.remove({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'staging', name: 'cfg' });
    const [apply, remove] = server.seen;
    expect(`${apply!.method} ${apply!.url}`).toBe(
      'PATCH /api/v1/namespaces/staging/configmaps/cfg?fieldManager=kubernetes-deploy-resource&force=true',
    );
    expect(apply!.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(JSON.parse(apply!.body)).toEqual(object);
    expect(remove!.method).toBe('DELETE');
    expect(remove!.headers['content-length']).toBe(String(Buffer.byteLength(remove!.body)));
    expect(remove!.headers['transfer-encoding']).toBeUndefined();
    expect(JSON.parse(remove!.body)).toEqual({
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Foreground',
    });
  });

  test('a kind the client does not know is discovered once, then addressed by its plural', async () => {
    const server = await standIn((seen, res) => {
      if (seen.url === '/apis/example.com/v1')
        return answer(200, { resources: [{ name: 'widgets', kind: 'Widget', namespaced: true }] })(res);
      answer(404, { kind: 'Status', message: 'not found' })(res);
    });
    const cluster = connectCluster(direct(server.url), { log: memoryLogger() });
    const key = { apiVersion: 'example.com/v1', kind: 'Widget', namespace: 'staging', name: 'w' };
    expect(await cluster.read(key)).toBeUndefined();
    expect(await cluster.isNamespaced('example.com/v1', 'Widget')).toBe(true);
    expect(server.seen.map((s) => s.url)).toEqual([
      '/apis/example.com/v1',
      '/apis/example.com/v1/namespaces/staging/widgets/w',
    ]);
    await expect(cluster.read({ ...key, kind: 'Gadget' })).rejects.toThrow(
      'the server does not know Gadget in example.com/v1',
    );
  });

  test("a pod's log stays text, even when it looks like JSON", async () => {
    const server = await standIn((_seen, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('{"level":"info"}\n');
    });
    const cluster = connectCluster(direct(server.url), { log: memoryLogger() });
    const log = await cluster.podLog('staging', 'web-1', { container: 'web', tailLines: 5, limitBytes: 100 });
    expect(log).toBe('{"level":"info"}\n');
    expect(server.seen[0]!.url).toBe(
      '/api/v1/namespaces/staging/pods/web-1/log?container=web&tailLines=5&limitBytes=100',
    );
    expect(server.seen[0]!.headers.accept).toBe('text/plain, application/json');
  });
});

describe('retries and bounds', () => {
  test('a 503 is retried after Retry-After, with a line naming the attempt', async () => {
    let calls = 0;
    const server = await standIn((seen, res) =>
      calls++ === 0 ? answer(503, 'busy', { 'retry-after': '2' })(res) : emptyList(seen, res),
    );
    const log = memoryLogger();
    const delays: number[] = [];
    const sleep = async (ms: number) => void delays.push(ms);
    const cluster = connectCluster(direct(server.url), { log, sleep });
    await cluster.list('v1', 'Secret', 'staging');
    expect(delays).toEqual([2000]);
    expect(log.lines).toEqual([
      'retrying list secrets in namespace staging in 2.0s (attempt 2 of 5): the API server answered 503',
    ]);
  });

  test('a request without response headers within the bound ends naming the step; retried once, not more', async () => {
    const server = await standIn(() => undefined);
    const log = memoryLogger();
    const auth = { ...direct(server.url), requestTimeoutMs: 200 };
    const cluster = connectCluster(auth, { log, sleep: async () => undefined });
    const message = `no response from ${server.url} within 200ms (the request was sent; no response headers came)`;
    const error = await cluster.list('v1', 'Secret', 'staging').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClusterConnectionError);
    expect((error as Error).message).toBe(message);
    expect(log.lines).toEqual([`retrying list secrets in namespace staging in 0.5s (attempt 2 of 5): ${message}`]);
    expect(server.seen).toHaveLength(2);
  });

  test('a body that stalls is cut at the bound of the whole request', async () => {
    const server = await standIn((_seen, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"kind":');
    });
    const auth = { ...direct(server.url), requestTimeoutMs: 200 };
    const cluster = connectCluster(auth, { log: memoryLogger(), retries: 0 });
    await expect(cluster.list('v1', 'Secret', 'staging')).rejects.toThrow(
      `the response body from ${server.url} did not arrive within 200ms (stalled or trickling)`,
    );
  });

  test('an aborted signal ends the request with its reason, before sending', async () => {
    const server = await standIn();
    const controller = new AbortController();
    controller.abort(new Error('stopped by the test'));
    const cluster = connectCluster(direct(server.url), { log: memoryLogger(), signal: controller.signal });
    await expect(cluster.list('v1', 'Secret', 'staging')).rejects.toThrow('stopped by the test');
    expect(server.seen).toHaveLength(0);
  });
});

describe('watch', () => {
  test('one event per line, objects with apiVersion and kind, the end after the stream closes', async () => {
    const server = await standIn((_seen, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'web' } } }) + '\n');
      res.write('{"type":"BOOK'); // a line cut in two chunks
      res.end('MARK","object":{"metadata":{"resourceVersion":"9"}}}\nnot json\n');
    });
    const cluster = connectCluster(direct(server.url), { log: memoryLogger() });
    const events: unknown[] = [];
    const ended = new Promise<unknown>((resolve) => {
      void cluster.watch(
        'apps/v1',
        'Deployment',
        'staging',
        { labelSelector: 'app=web', resourceVersion: '5' },
        (e) => events.push(e),
        resolve,
      );
    });
    expect(await ended).toBeUndefined();
    expect(events).toEqual([
      { type: 'ADDED', object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' } } },
      {
        type: 'BOOKMARK',
        object: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { resourceVersion: '9' } },
      },
    ]);
    expect(server.seen[0]!.url).toBe(
      '/apis/apps/v1/namespaces/staging/deployments' +
        '?allowWatchBookmarks=true&labelSelector=app%3Dweb&resourceVersion=5&watch=true',
    );
  });

  test('a refused watch ends with the error of its status', async () => {
    const server = await standIn((_seen, res) => answer(403, { kind: 'Status', message: 'forbidden' })(res));
    const cluster = connectCluster(direct(server.url), { log: memoryLogger() });
    const ended = new Promise<unknown>((resolve) => {
      void cluster.watch('v1', 'Pod', 'staging', {}, () => undefined, resolve);
    });
    // The status line alone: a watch's refusal carries no body to read a reason from.
    expect(((await ended) as Error).message).toBe(
      'forbidden (403) to watch pods in namespace staging: no reason given',
    );
  });

  test('a stream without a byte for idleMs ends, to be resumed', async () => {
    const server = await standIn((_seen, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('\n');
    });
    const auth = direct(server.url);
    const transport = createTransport(async () => kubeConfigFor(auth), {
      requestTimeoutMs: 5000,
      proxyFor: () => undefined,
    });
    const ended = new Promise<unknown>((resolve) => {
      transport.stream(new URL(`${server.url}/api/v1/pods?watch=true`), {}, () => undefined, resolve, 150);
    });
    expect(((await ended) as Error).message).toBe('watch idle');
  });
});

describe('an exec credential plugin', () => {
  test("runs once for every request, with the cluster's info; its token is sent and redacted", async () => {
    const server = await standIn();
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), 'token-from-the-plugin-0123456789\n');
    const exec =
      `{exec: {apiVersion: client.authentication.k8s.io/v1, command: "${plugin}", args: [--flag], ` +
      'interactiveMode: Never, provideClusterInfo: true}}';
    const secrets: string[] = [];
    const pluginEnv = {
      PATH: process.env.PATH ?? '',
      KDR_PLUGIN_TOKEN_FILE: join(dir, 'token'),
      KDR_PLUGIN_RECORD: join(dir, 'record'),
    };
    const cluster = connectCluster(authOf({ kubeconfig: kubeconfig(server.url, exec) }), {
      log: memoryLogger(),
      network: network({ pluginEnv }),
      addSecret: (s) => secrets.push(s),
    });
    await cluster.list('v1', 'Secret', 'staging');
    await cluster.detached().list('v1', 'Secret', 'staging');
    expect(server.seen.map((s) => s.headers.authorization)).toEqual([
      'Bearer token-from-the-plugin-0123456789',
      'Bearer token-from-the-plugin-0123456789',
    ]);
    expect(secrets).toEqual(['token-from-the-plugin-0123456789']);
    const records = readFileSync(join(dir, 'record'), 'utf8').trim().split('\n');
    expect(records).toHaveLength(1);
    const record = JSON.parse(records[0]!) as { args: string[]; info: { spec: { cluster: unknown } } };
    expect(record.args).toEqual(['--flag']);
    expect(record.info.spec.cluster).toEqual({ server: server.url, 'certificate-authority-data': caData() });
  });

  test('a 401 names the plugin that gave the refused token', async () => {
    const server = await standIn((_seen, res) => answer(401, { kind: 'Status', message: 'Unauthorized' })(res));
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), 'refused-token-0123456789');
    const exec = `{exec: {apiVersion: client.authentication.k8s.io/v1, command: "${plugin}", interactiveMode: Never}}`;
    const pluginEnv = { PATH: process.env.PATH ?? '', KDR_PLUGIN_TOKEN_FILE: join(dir, 'token') };
    const cluster = connectCluster(authOf({ kubeconfig: kubeconfig(server.url, exec) }), {
      log: memoryLogger(),
      network: network({ pluginEnv }),
    });
    await expect(cluster.list('v1', 'Secret', 'staging')).rejects.toThrow(
      `the token from the exec credential plugin "${plugin}" of kubeconfig user "u" was refused`,
    );
  });
});

describe('in_cluster: the mounted ServiceAccount', () => {
  test("its token to the API server of the Pod's environment, trusting the mounted CA", async () => {
    const server = await standIn();
    const root = tempDir();
    writeFileSync(join(root, 'token'), 'mounted-token-0123456789\n');
    writeFileSync(join(root, 'ca.crt'), loopbackPki().caPem);
    const inCluster = { serviceHost: '127.0.0.1', servicePort: String(server.port), mountRoot: root };
    const cluster = connectCluster(authOf({ in_cluster: true }), {
      log: memoryLogger(),
      network: network({ inCluster }),
    });
    expect(cluster.server).toBe(server.url);
    await cluster.list('v1', 'Secret', 'staging');
    expect(server.seen[0]!.headers.authorization).toBe('Bearer mounted-token-0123456789');
  });

  test('without the mount: a bad request before any request', () => {
    const root = join(tempDir(), 'absent');
    const inCluster = { serviceHost: '127.0.0.1', servicePort: '6443', mountRoot: root };
    const connect = () =>
      connectCluster(authOf({ in_cluster: true }), { log: memoryLogger(), network: network({ inCluster }) });
    expect(connect).toThrow(BadRequestError);
    expect(connect).toThrow(
      `source.in_cluster: cannot read the ServiceAccount's token at ${root}/token (ENOENT): ` +
        "is the ServiceAccount token mounted into the worker's Pod (automountServiceAccountToken)?",
    );
  });
});

describe('proxies', () => {
  const started = async <T extends ConnectProxy | SocksProxy>(proxy: Promise<T>) => {
    const p = await proxy;
    closables.push(p);
    return p;
  };

  test('HTTPS_PROXY: a CONNECT tunnel to the named host', async () => {
    const server = await standIn();
    const proxy = await started(startConnectProxy({ route: () => ({ host: '127.0.0.1', port: server.port }) }));
    const cluster = connectCluster(direct(`https://${proxiedHost}:6443`), {
      log: memoryLogger(),
      network: network({ proxy: { httpsProxy: proxy.url } }),
    });
    await cluster.list('v1', 'Secret', 'staging');
    await cluster.list('v1', 'Secret', 'staging');
    expect(proxy.tunnels.map((t) => t.target)).toEqual([`${proxiedHost}:6443`]);
    expect(server.seen.map((s) => s.headers.authorization)).toEqual([`Bearer ${token}`, `Bearer ${token}`]);
  });

  test('a proxy that refuses the tunnel is named, without its password', async () => {
    const proxy = await started(startConnectProxy({ refuse: 403 }));
    const withPassword = proxy.url.replace('http://', 'http://deployer:hunter2-secret@');
    const cluster = connectCluster(direct(`https://${proxiedHost}:6443`), {
      log: memoryLogger(),
      network: network({ proxy: { httpsProxy: withPassword } }),
      retries: 0,
    });
    const error = (await cluster.list('v1', 'Secret', 'staging').catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ClusterConnectionError);
    expect(error.message).toBe(
      `cannot reach the cluster at https://${proxiedHost}:6443 through the proxy ` +
        `${proxy.url.replace('http://', 'http://[redacted]@')}: the proxy refused the tunnel (403)`,
    );
  });

  test('a proxy of a scheme we do not speak', async () => {
    const cluster = connectCluster(direct(`https://${proxiedHost}:6443`), {
      log: memoryLogger(),
      network: network({ proxy: { httpsProxy: 'ftp://127.0.0.1:1' } }),
      retries: 0,
    });
    await expect(cluster.list('v1', 'Secret', 'staging')).rejects.toThrow(
      `cannot reach the cluster at https://${proxiedHost}:6443 through the proxy ftp://127.0.0.1:1: ` +
        'only http:// and https:// proxies are supported here (socks5:// only as a kubeconfig proxy-url), not ftp:',
    );
  });

  test("a kubeconfig's socks5 proxy-url: the proxy resolves the host name", async () => {
    const server = await standIn();
    const socks = await started(startSocksProxy({ route: () => ({ host: '127.0.0.1', port: server.port }) }));
    const config = kubeconfig(`https://${proxiedHost}:6443`, `{token: ${token}}`, socks.url);
    const cluster = connectCluster(authOf({ kubeconfig: config }), { log: memoryLogger() });
    await cluster.list('v1', 'Secret', 'staging');
    expect(socks.tunnels).toEqual([{ target: `${proxiedHost}:6443` }]);
    expect(server.seen[0]!.headers.authorization).toBe(`Bearer ${token}`);
  });
});
