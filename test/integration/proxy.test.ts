// Proxies as Concourse workers set them (issue 12): http_proxy/https_proxy/no_proxy and the upper-case forms, like
// kubectl. A CONNECT proxy on 127.0.0.1 records its tunnels; the API server is addressed by names only the proxy can
// reach (kube.test, which resolves nowhere), so a request that skips the proxy cannot succeed by accident. Loopback
// addresses never go through a proxy, as in kubectl. A kubeconfig's socks5 proxy-url goes to a SOCKS5 proxy on
// 127.0.0.1 that records its tunnels the same way.
import { afterEach, describe, expect, test } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { auditLogPath, kubectlJson, readSource, useNamespace, waitFor } from '../support/cluster.js';
import {
  loopbackPki,
  proxiedHost,
  proxiedIp,
  socksReply,
  startConnectProxy,
  startEmptyListServer,
  startSocksProxy,
  type ConnectProxy,
  type LoopbackServer,
  type SocksProxy,
} from '../support/loopback-servers.js';
import { emptyDir } from '../support/release.js';
import { lines, runScript } from '../support/run-script.js';
import { canaries } from '../support/secret-scan.js';
import { readyImage } from '../support/images.js';

let proxy: ConnectProxy | undefined;
let server: (LoopbackServer & { port: number }) | undefined;
afterEach(async () => {
  await proxy?.close();
  await server?.close();
  proxy = server = undefined;
});

const source = (url: string, extra: Record<string, unknown> = {}) => ({
  cluster_url: url,
  cluster_ca: Buffer.from(loopbackPki().caPem).toString('base64'),
  token: 'proxy-test-token-0123456789',
  namespace: 'proxied',
  app: 'web',
  request_timeout: '2s',
  ...extra,
});
const toServer = () => ({ host: '127.0.0.1', port: server!.port });
// A password the suite-wide secret scan looks for in every byte the scripts print.
const password = canaries[0]!;

describe('check through a CONNECT proxy (a stand-in API server behind it)', () => {
  test.each<[string, Record<string, string>]>([
    ['https_proxy', { https_proxy: 'PROXY' }],
    ['HTTPS_PROXY', { HTTPS_PROXY: 'PROXY' }],
    ['HTTPS_PROXY wins over https_proxy', { HTTPS_PROXY: 'PROXY', https_proxy: 'http://127.0.0.1:1' }],
  ])('%s: the request goes through a tunnel to the named host', async (_name, vars) => {
    server = await startEmptyListServer();
    proxy = await startConnectProxy({ route: toServer });
    const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v === 'PROXY' ? proxy!.url : v]));
    const run = await runScript('check', { source: source(`https://${proxiedHost}:6443`) }, { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toEqual([]);
    expect(proxy.tunnels.map((t) => t.target)).toEqual([`${proxiedHost}:6443`]);
    expect(server.hits()).toBe(1);
  });

  test('proxy credentials are sent to the proxy and never printed', async () => {
    server = await startEmptyListServer();
    proxy = await startConnectProxy({ route: toServer });
    const withCredentials = proxy.url.replace('http://', `http://deployer:${password}@`);
    const run = await runScript(
      'check',
      { source: source(`https://${proxiedHost}:6443`) },
      { env: { https_proxy: withCredentials } },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(proxy.tunnels).toEqual([{ target: `${proxiedHost}:6443`, credentials: `deployer:${password}` }]);
  });

  test.each<[string, string, string]>([
    ['a host name', proxiedHost, proxiedHost],
    ['a domain', proxiedHost, '.test'],
    ['a host with its port', proxiedHost, `example.org,${proxiedHost}:6443`],
    // An IP or a CIDR in no_proxy would send the script straight to a non-loopback address, which no test may reach:
    // their matching is proven in test/unit/proxy.test.ts, their tunnel in the NO_PROXY test below.
    ['*', proxiedHost, '*'],
  ])(
    'no_proxy naming %s: straight to the server, no tunnel (which cannot reach it here: exit 3)',
    async (_name, host, noProxy) => {
      proxy = await startConnectProxy();
      const run = await runScript(
        'check',
        { source: source(`https://${host}:6443`, { request_timeout: '1s' }) },
        { env: { https_proxy: proxy.url, no_proxy: noProxy } },
      );
      expect(run.code, run.stderr).toBe(3);
      expect(proxy.tunnels).toEqual([]);
      expect(lines(run.stderr).at(-1)).not.toContain('proxy');
    },
  );

  test('NO_PROXY with another port or another host still goes through the proxy', async () => {
    server = await startEmptyListServer();
    proxy = await startConnectProxy({ route: toServer });
    // A host name that resolves nowhere: were the proxy skipped by mistake, nothing would leave the machine.
    const run = await runScript(
      'check',
      { source: source(`https://${proxiedHost}:6443`) },
      { env: { HTTPS_PROXY: proxy.url, NO_PROXY: `${proxiedHost}:443,kube.example,192.168.0.0/16` } },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(proxy.tunnels.map((t) => t.target)).toEqual([`${proxiedHost}:6443`]);
  });

  test('a loopback API server never goes through the proxy (as in kubectl)', async () => {
    server = await startEmptyListServer();
    proxy = await startConnectProxy({ route: toServer });
    const run = await runScript(
      'check',
      { source: source(server.url) },
      { env: { https_proxy: proxy.url, HTTPS_PROXY: proxy.url } },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(proxy.tunnels).toEqual([]);
  });

  test('a kubeconfig proxy-url wins over the environment and no_proxy', async () => {
    server = await startEmptyListServer();
    proxy = await startConnectProxy({ route: toServer });
    const ca = Buffer.from(loopbackPki().caPem).toString('base64');
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'current-context: c',
      'clusters:',
      `- name: k\n  cluster:\n    server: https://${proxiedHost}:6443\n    certificate-authority-data: ${ca}\n    ` +
        `proxy-url: ${proxy.url}`,
      'users:',
      '- name: u\n  user:\n    token: proxy-test-token-0123456789',
      'contexts:',
      '- name: c\n  context: {cluster: k, user: u}',
    ].join('\n');
    const run = await runScript(
      'check',
      { source: { kubeconfig, app: 'web', namespace: 'proxied' } },
      { env: { https_proxy: 'http://127.0.0.1:1', no_proxy: '*' } },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(proxy.tunnels.map((t) => t.target)).toEqual([`${proxiedHost}:6443`]);
  });
});

describe('a proxy that fails: exit 3 naming the proxy, never its credentials', () => {
  test('a proxy that refuses the tunnel (403)', async () => {
    proxy = await startConnectProxy({ refuse: 403 });
    const port = new URL(proxy.url).port;
    const withCredentials = proxy.url.replace('http://', `http://deployer:${password}@`);
    const run = await runScript(
      'check',
      { source: source(`https://${proxiedHost}:6443`) },
      { env: { HTTPS_PROXY: withCredentials } },
    );
    expect(run.code, run.stderr).toBe(3);
    expect(lines(run.stderr).at(-1)).toBe(
      `error: cannot reach the cluster at https://${proxiedHost}:6443 through the proxy ` +
        `http://[redacted]@127.0.0.1:${port}: the proxy refused the tunnel (403)`,
    );
    expect(run.stderr).not.toContain(password);
    expect(run.stderr).not.toContain('deployer');
  });

  test('a proxy that is not there: retried, then exit 3', async () => {
    proxy = await startConnectProxy();
    const gone = proxy.url;
    await proxy.close();
    proxy = undefined;
    const withCredentials = gone.replace('http://', `http://deployer:${password}@`);
    const run = await runScript(
      'check',
      { source: source(`https://${proxiedHost}:6443`) },
      { env: { https_proxy: withCredentials } },
    );
    expect(run.code, run.stderr).toBe(3);
    const port = new URL(gone).port;
    expect(lines(run.stderr).at(-1)).toBe(
      `error: cannot reach the cluster at https://${proxiedHost}:6443 through the proxy ` +
        `http://[redacted]@127.0.0.1:${port}: connection to the proxy refused`,
    );
    expect(lines(run.stderr).filter((l) => l.startsWith('retrying ')).length).toBe(4);
    expect(run.stderr).not.toContain(password);
  });

  test('a proxy that accepts and never answers the CONNECT: bounded, naming the proxy', async () => {
    const { startMisbehavingServer } = await import('../support/loopback-servers.js');
    const silent = await startMisbehavingServer('silent-tcp');
    try {
      const proxyUrl = silent.url.replace('https://', 'http://');
      const run = await runScript(
        'check',
        { source: source(`https://${proxiedHost}:6443`, { request_timeout: '1s' }) },
        { env: { https_proxy: proxyUrl } },
      );
      expect(run.code, run.stderr).toBe(3);
      expect(lines(run.stderr).at(-1)).toBe(
        `error: no tunnel to https://${proxiedHost}:6443 through the proxy ${proxyUrl} within 1s`,
      );
      expect(run.durationMs).toBeLessThan(20_000);
    } finally {
      await silent.close();
    }
  });
});

describe('a put through the proxy against the real cluster: requests and watches tunnel', () => {
  const ns = useNamespace('kdr-proxy');

  test('every connection of the put and of its teardown goes through the proxy; no_proxy bypasses it', async () => {
    const { cluster_url, cluster_ca, admin_cert, admin_key } = readSource() as unknown as Record<string, string>;
    if (!cluster_url) throw new Error('the test cluster source has no cluster_url');
    const apiserver = new URL(cluster_url);
    proxy = await startConnectProxy({ route: () => ({ host: '127.0.0.1', port: Number(apiserver.port) }) });
    // The serving certificate names localhost; the proxy resolves the name we give, which the machine cannot.
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'current-context: c',
      'clusters:',
      `- name: k\n  cluster:\n    server: https://${proxiedHost}:${apiserver.port}\n    ` +
        `certificate-authority-data: ${cluster_ca}\n    tls-server-name: localhost`,
      'users:',
      `- name: u\n  user:\n    client-certificate-data: ${admin_cert}\n    client-key-data: ${admin_key}`,
      'contexts:',
      '- name: c\n  context: {cluster: k, user: u}',
    ].join('\n');
    const src = { kubeconfig, app: 'web', namespace: ns.name };
    const env = { https_proxy: proxy.url };
    const put = await runScript(
      'out',
      { source: src, params: { image_ref: readyImage('1').tagRef, replicas: 2 } },
      { dir: emptyDir(), env },
    );
    expect(put.code, put.stderr).toBe(0);
    // Requests on kept-alive connections plus one connection per open watch at least.
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(2);
    expect(new Set(proxy.tunnels.map((t) => t.target))).toEqual(new Set([`${proxiedHost}:${apiserver.port}`]));
    const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: ns.name });
    expect(deployment.status.availableReplicas).toBe(2);
    // The put's watches reached the API server: only the proxy can reach kube.test, so they came through it.
    const watched = await waitFor("the put's watches in the audit log", async () => {
      if (!existsSync(auditLogPath)) return undefined;
      const kinds = new Set<string>();
      for (const line of readFileSync(auditLogPath, 'utf8').split('\n')) {
        if (!line.includes(ns.name) || !line.includes('"verb":"watch"')) continue;
        const entry = JSON.parse(line) as { userAgent?: string; objectRef?: { namespace?: string; resource?: string } };
        if (entry.objectRef?.namespace === ns.name && entry.userAgent?.startsWith('kubernetes-deploy-resource'))
          kinds.add(entry.objectRef.resource ?? '');
      }
      return kinds.size >= 3 ? [...kinds].sort() : undefined;
    });
    expect(watched).toEqual(['deployments', 'events', 'pods', 'replicasets']);

    const before = proxy.tunnels.length;
    const bypassed = await runScript(
      'check',
      { source: { ...src, request_timeout: '1s' } },
      { env: { ...env, no_proxy: '.test' } },
    );
    expect(bypassed.code).toBe(3);
    expect(proxy.tunnels.length).toBe(before);

    const del = await runScript('out', { source: src, params: { delete: true } }, { dir: emptyDir(), env });
    expect(del.code, del.stderr).toBe(0);
    expect(proxy.tunnels.length).toBeGreaterThan(before);
  });
});

describe('a kubeconfig socks5 proxy-url (SOCKS5, RFC 1928)', () => {
  const socksNs = useNamespace('kdr-socks');
  let socks: SocksProxy | undefined;
  afterEach(async () => {
    await socks?.close();
    socks = undefined;
  });

  /** A kubeconfig for `server` whose cluster goes through `proxyUrl`; the stand-in's CA and a token by default. */
  function socksKubeconfig(
    server: string,
    proxyUrl: string,
    cluster: { ca?: string; tlsServerName?: string } = {},
    user = '{token: proxy-test-token-0123456789}',
  ): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'current-context: c',
      'clusters:',
      `- name: k\n  cluster:\n    server: ${server}\n` +
        `    certificate-authority-data: ${cluster.ca ?? Buffer.from(loopbackPki().caPem).toString('base64')}\n` +
        `    proxy-url: ${proxyUrl}` +
        (cluster.tlsServerName ? `\n    tls-server-name: ${cluster.tlsServerName}` : ''),
      'users:',
      `- name: u\n  user: ${user}`,
      'contexts:',
      '- name: c\n  context: {cluster: k, user: u}',
    ].join('\n');
  }

  test('socks5://: check goes through a tunnel; the proxy resolves the name, as with kubectl', async () => {
    server = await startEmptyListServer();
    socks = await startSocksProxy({ route: toServer });
    // A name only the proxy resolves (routed to the stand-in): skipping the proxy cannot succeed by accident.
    const kubeconfig = socksKubeconfig(`https://${proxiedHost}:6443`, socks.url);
    const run = await runScript(
      'check',
      { source: { kubeconfig, app: 'web', namespace: 'proxied', request_timeout: '2s' } },
      { env: { https_proxy: 'http://127.0.0.1:1', no_proxy: '*' } },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toEqual([]);
    expect(socks.tunnels).toEqual([{ target: `${proxiedHost}:6443` }]);
    expect(server.hits()).toBe(1);
  });

  test('socks5h:// too; user:password is sent (RFC 1929) and never printed', async () => {
    server = await startEmptyListServer();
    socks = await startSocksProxy({ route: toServer, credentials: `deployer:${password}` });
    const proxyUrl = socks.url.replace('socks5://', `socks5h://deployer:${password}@`);
    const kubeconfig = socksKubeconfig(`https://${proxiedHost}:6443`, proxyUrl);
    const run = await runScript('check', {
      source: { kubeconfig, app: 'web', namespace: 'proxied', request_timeout: '2s' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(socks.logins).toEqual([`deployer:${password}`]);
    expect(socks.tunnels).toEqual([{ target: `${proxiedHost}:6443`, credentials: `deployer:${password}` }]);
  });

  test.each<[string, { refuse?: number; credentials?: string }, string, string]>([
    [
      'refuses the tunnel',
      { refuse: socksReply.notAllowed },
      'deployer:PASSWORD@',
      'the proxy refused the tunnel (SOCKS5 reply 2: connection not allowed by ruleset)',
    ],
    [
      'refuses our username and password',
      { credentials: 'deployer:another-password' },
      'deployer:PASSWORD@',
      'the proxy refused our username and password (SOCKS5)',
    ],
    [
      'wants a username and password we do not have',
      { credentials: 'deployer:another-password' },
      '',
      'the proxy accepts none of our authentication methods (SOCKS5: does it need user:password@ in proxy-url?)',
    ],
  ])('a SOCKS proxy that %s: exit 3 naming it, credentials redacted', async (_name, behaviour, userinfo, detail) => {
    socks = await startSocksProxy({ route: toServer, ...behaviour });
    const port = new URL(socks.url).port;
    const proxyUrl = socks.url.replace('socks5://', `socks5://${userinfo.replace('PASSWORD', password)}`);
    const kubeconfig = socksKubeconfig(`https://${proxiedIp}:6443`, proxyUrl);
    const run = await runScript('check', {
      source: { kubeconfig, app: 'web', namespace: 'proxied', request_timeout: '2s' },
    });
    expect(run.code, run.stderr).toBe(3);
    const shown = userinfo ? `socks5://[redacted]@127.0.0.1:${port}` : `socks5://127.0.0.1:${port}`;
    expect(lines(run.stderr).at(-1)).toBe(
      `error: cannot reach the cluster at https://${proxiedIp}:6443 through the proxy ${shown}: ${detail}`,
    );
    expect(run.stderr).not.toContain(password);
    expect(run.stderr).not.toContain('deployer');
  });

  test('a put (apply, watches), re-put, check and teardown on the real cluster: all through the tunnel', async () => {
    const { cluster_url, cluster_ca, admin_cert, admin_key } = readSource() as unknown as Record<string, string>;
    if (!cluster_url) throw new Error('the test cluster source has no cluster_url');
    const apiserver = new URL(cluster_url);
    socks = await startSocksProxy({
      route: () => ({ host: '127.0.0.1', port: Number(apiserver.port) }),
      credentials: `deployer:${password}`,
    });
    // An address only the proxy reaches; the serving certificate names localhost.
    const kubeconfig = socksKubeconfig(
      `https://${proxiedIp}:${apiserver.port}`,
      socks.url.replace('://', `://deployer:${password}@`),
      { ca: cluster_ca!, tlsServerName: 'localhost' },
      `{client-certificate-data: ${admin_cert}, client-key-data: ${admin_key}}`,
    );
    const src = { kubeconfig, app: 'web', namespace: socksNs.name };
    const put = await runScript(
      'out',
      { source: src, params: { image_ref: readyImage('1').tagRef, replicas: 2 } },
      { dir: emptyDir() },
    );
    expect(put.code, put.stderr).toBe(0);
    // Requests on kept-alive connections plus one connection per open watch at least.
    expect(socks.tunnels.length).toBeGreaterThanOrEqual(2);
    expect(new Set(socks.tunnels.map((t) => t.target))).toEqual(new Set([`${proxiedIp}:${apiserver.port}`]));
    expect(new Set(socks.tunnels.map((t) => t.credentials))).toEqual(new Set([`deployer:${password}`]));
    const deployment = await kubectlJson(['get', 'deployment', 'web'], { namespace: socksNs.name });
    expect(deployment.status.availableReplicas).toBe(2);
    const watched = await waitFor("the put's watches in the audit log", async () => {
      if (!existsSync(auditLogPath)) return undefined;
      const kinds = new Set<string>();
      for (const line of readFileSync(auditLogPath, 'utf8').split('\n')) {
        if (!line.includes(socksNs.name) || !line.includes('"verb":"watch"')) continue;
        const entry = JSON.parse(line) as { userAgent?: string; objectRef?: { namespace?: string; resource?: string } };
        if (entry.objectRef?.namespace === socksNs.name && entry.userAgent?.startsWith('kubernetes-deploy-resource'))
          kinds.add(entry.objectRef.resource ?? '');
      }
      return kinds.size >= 3 ? [...kinds].sort() : undefined;
    });
    expect(watched).toEqual(['deployments', 'events', 'pods', 'replicasets']);

    const again = await runScript(
      'out',
      { source: src, params: { image_ref: readyImage('1').tagRef, replicas: 2 } },
      { dir: emptyDir() },
    );
    expect(again.code, again.stderr).toBe(0);
    expect((again.json as { version: unknown }).version).toEqual((put.json as { version: unknown }).version);
    const check = await runScript('check', { source: src });
    expect(check.code, check.stderr).toBe(0);
    expect(check.json).toEqual([(put.json as { version: unknown }).version]);

    const before = socks.tunnels.length;
    const del = await runScript('out', { source: src, params: { delete: true } }, { dir: emptyDir() });
    expect(del.code, del.stderr).toBe(0);
    expect(socks.tunnels.length).toBeGreaterThan(before);
    const left = await kubectlJson(['get', 'deployments,services', '-l', 'app.kubernetes.io/instance=web'], {
      namespace: socksNs.name,
    });
    expect(left.items).toEqual([]);
    expect(put.stderr + again.stderr + check.stderr + del.stderr).not.toContain(password);
  });

  test('a SOCKS proxy that is not there: retried, then exit 3 naming it', async () => {
    socks = await startSocksProxy();
    const gone = socks.url;
    await socks.close();
    socks = undefined;
    const port = new URL(gone).port;
    const kubeconfig = socksKubeconfig(`https://${proxiedIp}:6443`, gone.replace('://', `://deployer:${password}@`));
    const run = await runScript('check', {
      source: { kubeconfig, app: 'web', namespace: 'proxied', request_timeout: '2s' },
    });
    expect(run.code, run.stderr).toBe(3);
    expect(lines(run.stderr).at(-1)).toBe(
      `error: cannot reach the cluster at https://${proxiedIp}:6443 through the proxy ` +
        `socks5://[redacted]@127.0.0.1:${port}: connection to the proxy refused`,
    );
    expect(lines(run.stderr).filter((l) => l.startsWith('retrying ')).length).toBe(4);
    expect(run.stderr).not.toContain(password);
  });
});
