// The side modules (assets/lib/*.cjs, /opt/resource/lib/ in the image): the packages only a rare path runs, which a
// script requires on first use (scripts/build.mjs). Each path that needs one, through the compiled scripts against a
// stand-in API server on 127.0.0.1: the request must arrive as the path makes it. Runs on the host and in the image.
import { afterEach, describe, expect, test } from 'vitest';
import {
  loopbackPki,
  proxiedHost,
  startConnectProxy,
  startEmptyListServer,
  startSocksProxy,
} from '../support/loopback-servers.js';
import { runScript } from '../support/run-script.js';

type Closable = { close(): Promise<void> };
let running: Closable[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.close()));
  running = [];
});
async function started<T extends Closable>(server: Promise<T>): Promise<T> {
  const s = await server;
  running.push(s);
  return s;
}

const token = 'side-module-token-0123456789';
const caData = () => Buffer.from(loopbackPki().caPem).toString('base64');
function kubeconfig(server: string, user: string, proxyUrl?: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'current-context: c',
    'clusters:',
    `- name: k\n  cluster:\n    server: ${server}\n    certificate-authority-data: ${caData()}` +
      (proxyUrl ? `\n    proxy-url: ${proxyUrl}` : ''),
    'users:',
    `- name: u\n  user: ${user}`,
    'contexts:',
    '- name: c\n  context: {cluster: k, user: u}',
    '',
  ].join('\n');
}

describe('a path that needs a side module loads it on first use', () => {
  test("check with a source.kubeconfig reads it with js-yaml (check's lib/js-yaml.cjs)", async () => {
    const server = await started(startEmptyListServer());
    const source = { kubeconfig: kubeconfig(server.url, `{token: ${token}}`), app: 'web', namespace: 'side' };
    const run = await runScript('check', { source });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toEqual([]);
    expect(server.authorizations).toEqual([`Bearer ${token}`]);
  });

  test("a gcp auth-provider's token helper output is read with jsonpath-plus (lib/jsonpath-plus.cjs)", async () => {
    const server = await started(startEmptyListServer());
    // The client library runs cmd-path with cmd-args through a shell and picks the token out with token-key.
    const helperOutput = JSON.stringify({ credential: { access_token: token, token_expiry: '2999-01-01T00:00:00Z' } });
    const config = {
      'cmd-path': '/bin/echo',
      'cmd-args': `'${helperOutput}'`, // quoted for the shell
      'token-key': '{.credential.access_token}',
      'expiry-key': '{.credential.token_expiry}',
    };
    const user = JSON.stringify({ 'auth-provider': { name: 'gcp', config } }); // JSON is YAML
    const source = { kubeconfig: kubeconfig(server.url, user), app: 'web', namespace: 'side' };
    const run = await runScript('check', { source });
    expect(run.code, run.stderr).toBe(0);
    expect(server.authorizations).toEqual([`Bearer ${token}`]);
  });

  test('HTTPS_PROXY: the CONNECT tunnel is made by hpagent (lib/proxy-agents.cjs)', async () => {
    const server = await started(startEmptyListServer());
    const proxy = await started(startConnectProxy({ route: () => ({ host: '127.0.0.1', port: server.port }) }));
    const source = { cluster_url: `https://${proxiedHost}:6443`, cluster_ca: caData(), token, app: 'web' };
    const run = await runScript('check', { source }, { env: { HTTPS_PROXY: proxy.url } });
    expect(run.code, run.stderr).toBe(0);
    expect(proxy.tunnels.map((t) => t.target)).toEqual([`${proxiedHost}:6443`]);
    expect(server.authorizations).toEqual([`Bearer ${token}`]);
  });

  test("a kubeconfig's socks5 proxy-url: the tunnel is made by socks-proxy-agent (lib/proxy-agents.cjs)", async () => {
    const server = await started(startEmptyListServer());
    const socks = await started(startSocksProxy({ route: () => ({ host: '127.0.0.1', port: server.port }) }));
    const source = {
      kubeconfig: kubeconfig(`https://${proxiedHost}:6443`, `{token: ${token}}`, socks.url),
      app: 'web',
      namespace: 'side',
    };
    const run = await runScript('check', { source });
    expect(run.code, run.stderr).toBe(0);
    expect(socks.tunnels).toEqual([{ target: `${proxiedHost}:6443` }]);
    expect(server.authorizations).toEqual([`Bearer ${token}`]);
  });
});
