// The TLS and proxy steps of the transport: the TLS material and auth headers of the KubeConfig, one TLS context for
// every connection, and kept-alive agents, one straight to the server and one per proxy (hpagent for http:// and
// https:// proxies, loaded only when one is used; the client library's own agent for a kubeconfig's socks5 proxy-url).
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { ProxyFailure } from './errors.js';
import { redactProxyUrl } from './proxy.js';

export interface TransportOptions {
  /** The bound of each network step, and of one whole request. */
  requestTimeoutMs: number;
  /** The proxy for a URL (undefined: straight to the server). */
  proxyFor(url: URL): URL | undefined;
}

/** What a request needs to be sent: the function that sends it, its proxy (if any), its options with the agent. */
export interface Prepared {
  send: typeof httpRequest | typeof httpsRequest;
  proxy: URL | undefined;
  options: RequestOptions;
}

type TlsOptions = Pick<RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;

const tlsOf = (o: RequestOptions): TlsOptions => ({
  ca: o.ca,
  cert: o.cert,
  key: o.key,
  rejectUnauthorized: o.rejectUnauthorized,
  servername: o.servername,
});

/** Prepares a request to `url`: the options and agent it is sent with. */
export type Prepare = (url: URL, headers: Record<string, string>) => Promise<Prepared>;

/**
 * What prepares each request: TLS, auth headers and a kept-alive agent, made once per transport and shared by its
 * requests.
 */
export function createPreparer(config: () => Promise<KubeConfig>, bounds: TransportOptions): Prepare {
  const agents = new Map<string, HttpAgent>();
  let base: Promise<RequestOptions> | undefined;
  // The client library's agent for the kubeconfig's proxy-url, kept for socks5 proxies (which it speaks, hpagent not).
  let libraryAgent: RequestOptions['agent'];
  const withContext = sharedContext();

  /** TLS material and auth headers from the KubeConfig (its own agent is replaced by ours). */
  const baseOptions = () =>
    (base ??= config().then(async (kc) => {
      const options: RequestOptions = {};
      await kc.applyToHTTPSOptions(options);
      libraryAgent = options.agent;
      delete options.agent;
      return options;
    }));

  /** Kept-alive agents: one straight to the server, one per proxy (loaded only when a proxy is used). */
  async function agentFor(url: URL, options: RequestOptions, proxy: URL | undefined): Promise<HttpAgent> {
    const key = `${url.protocol}${proxy?.href ?? ''}`;
    let agent = agents.get(key);
    if (agent) return agent;
    const tls = url.protocol === 'https:' ? withContext(tlsOf(options)) : tlsOf(options);
    if (!proxy) {
      agent =
        url.protocol === 'http:' ? new HttpAgent({ keepAlive: true }) : new HttpsAgent({ ...tls, keepAlive: true });
    } else {
      if (proxy.protocol.startsWith('socks') && libraryAgent instanceof HttpAgent) return libraryAgent;
      agent = await proxyAgent(url, proxy, tls, bounds.requestTimeoutMs);
    }
    agents.set(key, agent);
    return agent;
  }

  return async (url, headers) => {
    const options = await baseOptions();
    const proxy = bounds.proxyFor(url);
    const agent = await agentFor(url, options, proxy);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return {
      send,
      proxy,
      options: { ...options, agent, headers: { ...(options.headers as Record<string, string>), ...headers } },
    };
  };
}

/**
 * One TLS context for every connection to the server: Node builds one per connection otherwise (the CA, certificate
 * and key parsed again, about a millisecond each). One that cannot be built is left to each connection, which then
 * fails as it always did.
 */
function sharedContext(): (tls: TlsOptions) => TlsOptions & { secureContext?: SecureContext } {
  let secureContext: SecureContext | undefined;
  return (tls) => {
    try {
      secureContext ??= createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
    } catch {
      return tls;
    }
    return { ...tls, secureContext };
  };
}

/** A kept-alive agent that tunnels through an http:// or https:// proxy; any other scheme is refused. */
async function proxyAgent(url: URL, proxy: URL, tls: TlsOptions, timeoutMs: number): Promise<HttpAgent> {
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw new ProxyFailure(
      redactProxyUrl(proxy),
      'only http:// and https:// proxies are supported here (socks5:// only as a kubeconfig proxy-url), ' +
        `not ${proxy.protocol}`,
      undefined,
    );
  }
  const { HttpProxyAgent, HttpsProxyAgent } = await import('hpagent');
  // The agent's timeout bounds the CONNECT to the proxy too (our step timer cuts the request either way).
  const common = { proxy, keepAlive: true, timeout: timeoutMs };
  return url.protocol === 'http:' ? new HttpProxyAgent(common) : new HttpsProxyAgent({ ...common, ...tls });
}
