// Which proxy a request goes through, decided the way kubectl (Go's net/http ProxyFromEnvironment) decides it:
// a kubeconfig `proxy-url` wins; else HTTPS_PROXY/https_proxy for https and HTTP_PROXY/http_proxy for http URLs,
// unless NO_PROXY/no_proxy names the host (host names, domains, IPs, CIDRs, with an optional port; `*` for all).
// Like Go, a loopback address or `localhost` never goes through a proxy. Pure: the environment is passed in.
import { BlockList, isIP } from 'node:net';

/** The proxy settings of the environment, upper-case form first (as Go reads them). */
export interface ProxyEnv {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

type Matcher = (host: string, port: string) => boolean;

const stripBrackets = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

function splitHostPort(entry: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] ?? '' };
  // One colon: host:port; more (a bare IPv6 address): no port.
  const colons = entry.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = entry.split(':') as [string, string];
    return { host, port };
  }
  return { host: entry, port: '' };
}

function matcher(entry: string): Matcher | undefined {
  const slash = entry.indexOf('/');
  if (slash > 0) {
    const address = entry.slice(0, slash);
    const prefix = Number(entry.slice(slash + 1));
    const family = isIP(address);
    if (!family || !Number.isInteger(prefix)) return undefined;
    const block = new BlockList();
    try {
      block.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } catch {
      return undefined;
    }
    return (host) => {
      const hostFamily = isIP(host);
      return hostFamily !== 0 && block.check(host, hostFamily === 4 ? 'ipv4' : 'ipv6');
    };
  }
  const { host: entryHost, port: entryPort } = splitHostPort(entry);
  if (isIP(entryHost)) return (host, port) => host === entryHost && (entryPort === '' || entryPort === port);
  let domain = entryHost.startsWith('*.') ? entryHost.slice(1) : entryHost;
  // "example.com" matches it and its subdomains; ".example.com" only the subdomains.
  const matchesItself = !domain.startsWith('.');
  if (matchesItself) domain = '.' + domain;
  return (host, port) =>
    (host.endsWith(domain) || (matchesItself && host === domain.slice(1))) && (entryPort === '' || entryPort === port);
}

/** A proxy setting as a URL; Go takes "proxy:3128" without a scheme as http://proxy:3128. */
export function parseProxyUrl(text: string): URL | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`);
  } catch {
    return undefined;
  }
}

/** Whether NO_PROXY (or loopback) sends a request to `url` straight to the server. */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  const host = stripBrackets(url.hostname.toLowerCase()).replace(/\.$/, '');
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (host === 'localhost') return true;
  const family = isIP(host);
  if (family === 4 && host.startsWith('127.')) return true;
  if (family === 6 && host === '::1') return true;
  for (const raw of (noProxy ?? '').split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    if (matcher(entry)?.(host, port)) return true;
  }
  return false;
}

/** The proxy for a request to `url`, or undefined to go straight to the server. */
export function proxyFor(url: URL, env: ProxyEnv, kubeconfigProxyUrl?: string): URL | undefined {
  if (kubeconfigProxyUrl) return parseProxyUrl(kubeconfigProxyUrl);
  const setting = url.protocol === 'https:' ? env.httpsProxy : env.httpProxy;
  if (!setting || bypassesProxy(url, env.noProxy)) return undefined;
  return parseProxyUrl(setting);
}

/** A proxy URL fit for a message: user name and password replaced. */
export function redactProxyUrl(proxy: URL): string {
  // Not proxy.origin: that is "null" for a scheme URL does not know, such as socks5:.
  if (!proxy.username && !proxy.password) return `${proxy.protocol}//${proxy.host}`;
  return `${proxy.protocol}//[redacted]@${proxy.host}`;
}
