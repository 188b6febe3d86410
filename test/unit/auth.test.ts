import { beforeAll, describe, expect, test } from 'vitest';
import { decodePem, resolveClusterAuth, secretFragments } from '../../src/cluster/auth.js';
import { kubeConfigFor } from '../../src/cluster/kubeconfig.js';
import { BadRequestError, ClusterConnectionError } from '../../src/errors.js';
import { parseCheckRequest } from '../../src/request/parse.js';
import { base64, makeTestPki, type TestPki } from '../support/pki.js';

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki();
});

const sourceOf = (fields: Record<string, unknown>) =>
  parseCheckRequest({ source: { app: 'web', cluster_url: 'https://127.0.0.1:6443', ...fields } }).source;
const failure = (fields: Record<string, unknown>) => {
  try {
    resolveClusterAuth(sourceOf(fields));
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
};

describe('resolveClusterAuth', () => {
  test('decodes base64 PEM, as the community resource takes it', () => {
    const auth = resolveClusterAuth(
      sourceOf({
        cluster_ca: base64(pki.caCert),
        admin_cert: base64(pki.clientCert),
        admin_key: base64(pki.clientKey),
      }),
    );
    expect(auth).toMatchObject({ kind: 'direct', server: 'https://127.0.0.1:6443', skipTlsVerify: false });
    expect(auth.kind === 'direct' && auth.caPem).toContain('-----BEGIN CERTIFICATE-----');
    expect(auth.kind === 'direct' && auth.keyPem).toContain('PRIVATE KEY-----');
  });

  test('accepts PEM text as is', () => {
    const auth = resolveClusterAuth(
      sourceOf({ cluster_ca: pki.caCert, admin_cert: pki.clientCert, admin_key: pki.clientKey }),
    );
    expect(auth.kind === 'direct' && auth.certPem?.trim()).toBe(pki.clientCert.trim());
  });

  test.each<[string, () => Record<string, unknown>, string]>([
    [
      'a CA that is not base64 PEM',
      () => ({ cluster_ca: 'not a cert!', token: 't' }),
      'source.cluster_ca: not a base64-encoded PEM certificate',
    ],
    [
      'a CA that is base64 of something else',
      () => ({ cluster_ca: base64('hello world'), token: 't' }),
      'source.cluster_ca: not a base64-encoded PEM certificate',
    ],
    [
      'a CA that is a key',
      () => ({ cluster_ca: base64(pki.clientKey), token: 't' }),
      'source.cluster_ca: not a base64-encoded PEM certificate',
    ],
    [
      'a broken certificate block',
      () => ({ cluster_ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', token: 't' }),
      'source.cluster_ca: holds a PEM block that is not a valid X.509 certificate',
    ],
    [
      'a key that is not a key',
      () => ({ admin_cert: base64(pki.clientCert), admin_key: base64(pki.caCert) }),
      'source.admin_key: not a base64-encoded PEM private key',
    ],
    [
      'a key that does not match the certificate',
      () => ({ admin_cert: base64(pki.clientCert), admin_key: base64(pki.otherKey) }),
      'source.admin_key: does not match source.admin_cert',
    ],
    [
      'a token with white space',
      () => ({ token: 'abc def' }),
      'source.token: must be a single bearer token without white space',
    ],
    [
      'a kubeconfig that is not YAML',
      () => ({ cluster_url: undefined, kubeconfig: '{{{' }),
      'source.kubeconfig: not valid YAML',
    ],
    [
      'a kubeconfig without the context',
      () => ({ cluster_url: undefined, kubeconfig: 'contexts: []\nclusters: []\nusers: []\n', context: 'prod' }),
      'source.context: no context named "prod" in source.kubeconfig',
    ],
  ])('%s: one message naming the field', (_name, fields, message) => {
    const error = failure(fields());
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.message).toBe(message);
  });

  test('an expired client certificate is an authentication error, found before any call', () => {
    const error = failure({ admin_cert: base64(pki.expiredCert), admin_key: base64(pki.expiredKey) });
    expect(error).toBeInstanceOf(ClusterConnectionError);
    expect(error.message).toBe('source.admin_cert: the client certificate expired on 2020-01-02T00:00:00.000Z');
  });

  test('embedded kubeconfig credentials get the same checks as admin_cert/admin_key', () => {
    const kubeconfig = (cert: string, key: string) =>
      [
        'apiVersion: v1',
        'current-context: c',
        'clusters: [{name: k, cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: ' +
          `${base64(pki.caCert)}}}]`,
        `users: [{name: u, user: {client-certificate-data: ${base64(cert)}, client-key-data: ${base64(key)}}}]`,
        'contexts: [{name: c, context: {cluster: k, user: u}}]',
      ].join('\n');
    expect(
      resolveClusterAuth(sourceOf({ cluster_url: undefined, kubeconfig: kubeconfig(pki.clientCert, pki.clientKey) }))
        .kind,
    ).toBe('kubeconfig');
    const mismatch = failure({ cluster_url: undefined, kubeconfig: kubeconfig(pki.clientCert, pki.otherKey) });
    expect(mismatch).toBeInstanceOf(BadRequestError);
    expect(mismatch.message).toBe(
      'source.kubeconfig: user "u": client-key-data does not match client-certificate-data',
    );
    const expired = failure({ cluster_url: undefined, kubeconfig: kubeconfig(pki.expiredCert, pki.expiredKey) });
    expect(expired).toBeInstanceOf(ClusterConnectionError);
    expect(expired.message).toBe(
      'source.kubeconfig: user "u" client-certificate-data: the client certificate expired on 2020-01-02T00:00:00.000Z',
    );
  });

  test('a kubeconfig is used in memory, with its context', () => {
    const kubeconfig = [
      'apiVersion: v1',
      'kind: Config',
      'current-context: a',
      'clusters: [{name: c1, cluster: {server: "https://10.0.0.1:6443"}}, ' +
        '{name: c2, cluster: {server: "https://10.0.0.2:6443"}}]',
      'users: [{name: u, user: {token: kubeconfig-token-value}}]',
      'contexts: [{name: a, context: {cluster: c1, user: u}}, {name: b, context: {cluster: c2, user: u}}]',
    ].join('\n');
    const auth = resolveClusterAuth(sourceOf({ cluster_url: undefined, kubeconfig, context: 'b' }));
    expect(auth).toMatchObject({ kind: 'kubeconfig', server: 'https://10.0.0.2:6443', context: 'b' });
    expect(kubeConfigFor(auth).getCurrentCluster()?.server).toBe('https://10.0.0.2:6443');
  });

  test('the client config holds the decoded credentials and nothing is written to disk', () => {
    const auth = resolveClusterAuth(
      sourceOf({
        cluster_ca: base64(pki.caCert),
        admin_cert: base64(pki.clientCert),
        admin_key: base64(pki.clientKey),
      }),
    );
    const kc = kubeConfigFor(auth);
    const user = kc.getCurrentUser();
    expect(Buffer.from(user?.certData ?? '', 'base64').toString()).toContain('BEGIN CERTIFICATE');
    expect(user?.certFile).toBeUndefined();
    expect(kc.getCurrentCluster()?.caFile).toBeUndefined();
  });
});

describe('secretFragments', () => {
  test('covers the credential as given, decoded, and line by line', () => {
    const source = { admin_key: base64(pki.clientKey), token: 'tok-1234567890' };
    const fragments = secretFragments(source);
    expect(fragments).toContain(source.admin_key);
    expect(fragments).toContain('tok-1234567890');
    const bodyLine = pki.clientKey.split('\n')[1]!;
    expect(fragments).toContain(bodyLine);
  });

  test("a kubeconfig proxy-url's user:password, as given and percent-decoded (YAML or JSON)", () => {
    const yaml = 'clusters:\n- cluster:\n    proxy-url: socks5://deployer:s3cr%40t-pw@proxy:1080\n';
    expect(secretFragments({ kubeconfig: yaml })).toEqual(
      expect.arrayContaining(['deployer:s3cr%40t-pw', 's3cr%40t-pw', 's3cr@t-pw']),
    );
    const json = JSON.stringify({ clusters: [{ cluster: { 'proxy-url': 'http://u:another-pw@proxy:3128' } }] });
    expect(secretFragments({ kubeconfig: json })).toEqual(expect.arrayContaining(['u:another-pw', 'another-pw']));
  });

  test('decodePem returns undefined for non-PEM input', () => {
    expect(decodePem('%%%')).toBeUndefined();
    expect(decodePem(base64('plain text'))).toBeUndefined();
  });
});
