// Which proxy a request takes, as kubectl (Go's ProxyFromEnvironment) decides it.
import { describe, expect, test } from 'vitest';
import { bypassesProxy, parseProxyUrl, proxyFor, redactProxyUrl } from '../../src/cluster/proxy.js';

const env = { httpsProxy: 'http://proxy.corp:3128', httpProxy: 'http://plain-proxy.corp:8080' };
const via = (url: string, noProxy?: string, kubeconfigProxy?: string) =>
  proxyFor(new URL(url), { ...env, noProxy }, kubeconfigProxy)?.href;

describe('proxyFor', () => {
  test('https URLs take HTTPS_PROXY, http URLs HTTP_PROXY', () => {
    expect(via('https://k8s.example.com:6443')).toBe('http://proxy.corp:3128/');
    expect(via('http://k8s.example.com:8080')).toBe('http://plain-proxy.corp:8080/');
    expect(proxyFor(new URL('https://k8s.example.com'), {})).toBeUndefined();
  });

  test('a proxy without a scheme is http://, as Go reads it', () => {
    expect(proxyFor(new URL('https://k8s.example.com'), { httpsProxy: 'proxy.corp:3128' })?.href).toBe(
      'http://proxy.corp:3128/',
    );
    expect(parseProxyUrl('  ')).toBeUndefined();
  });

  test('the kubeconfig proxy-url wins over the environment and over NO_PROXY', () => {
    expect(via('https://k8s.example.com', '*', 'http://kc-proxy:1080')).toBe('http://kc-proxy:1080/');
  });

  test.each<[string, string, boolean]>([
    ['exact host', 'k8s.example.com', true],
    ['a domain matches itself and its subdomains', 'example.com', true],
    ['a leading dot: subdomains only', '.example.com', true],
    ['*. prefix like a leading dot', '*.example.com', true],
    ['another domain', 'example.org', false],
    ['a suffix that is not a label boundary', 'ample.com', false],
    ['host with the right port', 'k8s.example.com:6443', true],
    ['host with another port', 'k8s.example.com:443', false],
    ['star', '*', true],
    ['list with spaces and case', ' foo.test , K8S.Example.COM ', true],
    ['empty entries', ',,', false],
  ])('NO_PROXY %s (%s)', (_name, noProxy, bypassed) => {
    expect(bypassesProxy(new URL('https://k8s.example.com:6443'), noProxy)).toBe(bypassed);
  });

  test('a leading dot does not match the domain itself', () => {
    expect(bypassesProxy(new URL('https://example.com'), '.example.com')).toBe(false);
    expect(bypassesProxy(new URL('https://example.com'), 'example.com')).toBe(true);
  });

  test.each<[string, string, boolean]>([
    ['10.1.2.3', '10.0.0.0/8', true],
    ['10.1.2.3', '10.1.2.3', true],
    ['10.1.2.3', '10.1.2.3:6443', true],
    ['10.1.2.3', '10.1.2.3:443', false],
    ['10.1.2.3', '192.168.0.0/16', false],
    ['[fd00::1]', 'fd00::/8', true],
    ['[fd00::1]', 'fe80::/10', false],
    ['k8s.example.com', '10.0.0.0/8', false],
  ])('NO_PROXY with IPs and CIDRs: %s against %s', (host, noProxy, bypassed) => {
    expect(bypassesProxy(new URL(`https://${host}:6443`), noProxy)).toBe(bypassed);
  });

  test('default ports count for NO_PROXY entries with a port', () => {
    expect(bypassesProxy(new URL('https://k8s.example.com'), 'k8s.example.com:443')).toBe(true);
    expect(bypassesProxy(new URL('http://k8s.example.com'), 'k8s.example.com:80')).toBe(true);
  });

  test('loopback and localhost never go through a proxy (as in Go)', () => {
    expect(via('https://127.0.0.1:6443')).toBeUndefined();
    expect(via('https://localhost:6443')).toBeUndefined();
    expect(via('https://[::1]:6443')).toBeUndefined();
  });

  test('malformed NO_PROXY entries are ignored, not fatal', () => {
    expect(bypassesProxy(new URL('https://10.1.2.3'), '10.0.0.0/99,not a cidr/x')).toBe(false);
  });
});

describe('redactProxyUrl', () => {
  test('credentials never appear', () => {
    expect(redactProxyUrl(new URL('http://user:s3cret@proxy.corp:3128'))).toBe('http://[redacted]@proxy.corp:3128');
    expect(redactProxyUrl(new URL('http://proxy.corp:3128'))).toBe('http://proxy.corp:3128');
  });

  test('socks5 URLs (whose origin is "null") keep scheme, host and port', () => {
    expect(redactProxyUrl(new URL('socks5://proxy.corp:1080'))).toBe('socks5://proxy.corp:1080');
    expect(redactProxyUrl(new URL('socks5h://u:s3cret@proxy.corp:1080'))).toBe('socks5h://[redacted]@proxy.corp:1080');
    expect(redactProxyUrl(new URL('https://proxy.corp'))).toBe('https://proxy.corp');
  });
});
