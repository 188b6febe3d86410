// A 401 names where the refused credentials came from (issue 12): the source's token or client certificate, the
// Pod's ServiceAccount token, an exec credential plugin, or a kubeconfig user; each with what to check.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { describe, expect, test, vi } from 'vitest';
import { resolveClusterAuth } from '../../src/cluster/auth.js';
import { connectCluster } from '../../src/cluster/client.js';
import { errorForStatus, type CredentialOrigin } from '../../src/cluster/errors.js';
import { credentialOrigin, kubeConfigFor } from '../../src/cluster/kubeconfig.js';
import type { Transport } from '../../src/cluster/transport.js';
import { ClusterConnectionError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';
import { parseCheckRequest } from '../../src/request/parse.js';
import { base64, makeTestPki } from '../support/pki.js';

const server = 'https://k8s.example.com:6443';
const what = 'list secrets in namespace staging';
const prefix = `the cluster at ${server} did not accept our credentials (401 Unauthorized) when trying to ${what}: `;

describe('the message of a 401, by where the credentials came from', () => {
  test.each<[string, CredentialOrigin | undefined, string]>([
    ['unknown (as before)', undefined, 'check source.token or source.admin_cert/admin_key'],
    [
      'source.token',
      { kind: 'source', credential: 'token' },
      'source.token was refused: is it expired or revoked, or its ServiceAccount deleted?',
    ],
    [
      'source.admin_cert/admin_key',
      { kind: 'source', credential: 'client certificate' },
      "source.admin_cert was refused: is it signed by the cluster's client CA?",
    ],
    [
      'in_cluster: the mounted ServiceAccount token',
      { kind: 'service-account', tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' },
      'the ServiceAccount token at /var/run/secrets/kubernetes.io/serviceaccount/token was refused: ' +
        'is it expired or its ServiceAccount deleted?',
    ],
    [
      'an exec plugin that returned a token',
      { kind: 'exec', command: 'aws', user: 'eks', credential: 'token' },
      'the token from the exec credential plugin "aws" of kubeconfig user "eks" was refused: does the cluster know ' +
        'the identity the plugin signs in as (e.g. is it mapped in aws-auth), with the credentials in its env?',
    ],
    [
      'an exec plugin that returned a client certificate',
      { kind: 'exec', command: 'kubelogin', user: 'oidc', credential: 'client certificate' },
      'the client certificate from the exec credential plugin "kubelogin" of kubeconfig user "oidc" was refused: ' +
        'does the cluster know the identity the plugin signs in as (e.g. is it mapped in aws-auth), ' +
        'with the credentials in its env?',
    ],
    [
      'a kubeconfig token',
      { kind: 'kubeconfig', user: 'ci', credential: 'token' },
      'the token of kubeconfig user "ci" was refused: is it expired or revoked?',
    ],
    [
      'a kubeconfig client certificate',
      { kind: 'kubeconfig', user: 'admin', credential: 'client certificate' },
      'the client certificate of kubeconfig user "admin" was refused: is it signed by the cluster\'s client CA?',
    ],
    [
      'a kubeconfig user without credentials',
      { kind: 'kubeconfig', user: 'nobody', credential: 'none' },
      'kubeconfig user "nobody" has no credentials (token, client-certificate-data or exec): the request was anonymous',
    ],
    [
      'a kubeconfig user with other credentials',
      { kind: 'kubeconfig', user: 'basic', credential: 'other' },
      'check the credentials of kubeconfig user "basic"',
    ],
  ])('%s', (_name, origin, hint) => {
    const error = errorForStatus(401, { message: 'Unauthorized' }, what, server, origin);
    expect(error).toBeInstanceOf(ClusterConnectionError);
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe(prefix + hint);
  });
});

describe('credentialOrigin: what the client sent', () => {
  const sourceOf = (extra: Record<string, unknown>) =>
    parseCheckRequest({ source: { app: 'web', namespace: 'staging', ...extra } }).source;
  const kubeconfig = (user: string) =>
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: c',
      `clusters: [{name: k, cluster: {server: "${server}"}}]`,
      `users: [{name: u, user: ${user}}]`,
      'contexts: [{name: c, context: {cluster: k, user: u}}]',
    ].join('\n');
  const originOf = (extra: Record<string, unknown>, used?: KubeConfig) => {
    const auth = resolveClusterAuth(sourceOf(extra));
    const configured = auth.kind === 'in-cluster' ? new KubeConfig() : kubeConfigFor(auth);
    return credentialOrigin(auth, configured, used ?? configured, { mountRoot: '/mnt/sa' });
  };

  test('the source: its token or its client certificate', () => {
    const pki = makeTestPki();
    expect(originOf({ cluster_url: server, token: 'a-token-0123456789' })).toEqual({
      kind: 'source',
      credential: 'token',
    });
    expect(
      originOf({ cluster_url: server, admin_cert: base64(pki.clientCert), admin_key: base64(pki.clientKey) }),
    ).toEqual({ kind: 'source', credential: 'client certificate' });
  });

  test('in_cluster: the token file of the mount', () => {
    expect(originOf({ in_cluster: true })).toEqual({ kind: 'service-account', tokenFile: '/mnt/sa/token' });
  });

  test('a kubeconfig user: token, client certificate, nothing', () => {
    const pki = makeTestPki();
    expect(originOf({ kubeconfig: kubeconfig('{token: kc-token-0123456789}') })).toEqual({
      kind: 'kubeconfig',
      user: 'u',
      credential: 'token',
    });
    const certUser = `{client-certificate-data: ${base64(pki.clientCert)}, client-key-data: ${base64(pki.clientKey)}}`;
    expect(originOf({ kubeconfig: kubeconfig(certUser) })).toMatchObject({ credential: 'client certificate' });
    expect(originOf({ kubeconfig: kubeconfig('{}') })).toMatchObject({ kind: 'kubeconfig', credential: 'none' });
  });

  test('an exec plugin: named by its command, with what it returned', () => {
    const exec = '{exec: {apiVersion: client.authentication.k8s.io/v1, command: aws, interactiveMode: Never}}';
    const withToken = new KubeConfig();
    withToken.loadFromString(kubeconfig('{token: from-the-plugin-0123456789}'));
    expect(originOf({ kubeconfig: kubeconfig(exec) }, withToken)).toEqual({
      kind: 'exec',
      command: 'aws',
      user: 'u',
      credential: 'token',
    });
    const pki = makeTestPki();
    const withCert = new KubeConfig();
    withCert.loadFromString(
      kubeconfig(`{client-certificate-data: ${base64(pki.clientCert)}, client-key-data: ${base64(pki.clientKey)}}`),
    );
    expect(originOf({ kubeconfig: kubeconfig(exec) }, withCert)).toMatchObject({
      kind: 'exec',
      credential: 'client certificate',
    });
  });
});

describe('a 401 on a watch', () => {
  // The watch's end builds its error asynchronously (the origin may need the exec plugin's answer): it must still
  // reach onEnd once, as a ClusterConnectionError naming the refused credential.
  test('ends the watch with the credential named, once', async () => {
    const auth = resolveClusterAuth(
      parseCheckRequest({ source: { app: 'web', namespace: 'staging', cluster_url: server, token: 'a-token-0123' } })
        .source,
    );
    const refusingTransport: Transport = {
      request: () => Promise.reject(new Error('no request expected')),
      stream: (_url, _headers, _onLine, onEnd) => {
        setImmediate(() => onEnd(Object.assign(new Error('HTTP 401'), { statusCode: 401 })));
        return () => undefined;
      },
    };
    const cluster = connectCluster(auth, { log: memoryLogger(), transport: refusingTransport });
    const ends: unknown[] = [];
    await cluster.watch(
      'apps/v1',
      'Deployment',
      'staging',
      {},
      () => undefined,
      (error) => ends.push(error),
    );
    await vi.waitFor(() => expect(ends).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ends).toHaveLength(1);
    expect(ends[0]).toBeInstanceOf(ClusterConnectionError);
    expect((ends[0] as Error).message).toBe(
      `the cluster at ${server} did not accept our credentials (401 Unauthorized) when trying to ` +
        'watch deployments in namespace staging: ' +
        'source.token was refused: is it expired or revoked, or its ServiceAccount deleted?',
    );
  });
});
