// HTTP to the API server over node:https with keep-alive, configured by @kubernetes/client-node's KubeConfig
// (certificates, token). The client library's own fetch stack (a bundled copy of undici) made up 40% of the scripts
// and a third of their start-up time; see bench/RESULTS.md.
// Every step is bounded: connect (through the proxy, if any), TLS handshake, response headers, and the whole body
// of a request, each within `requestTimeoutMs`; a watch's connect, handshake and headers too (its body may be idle
// for `idleMs`, then it is ended and the caller resumes it).
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { ProxyFailure, StepTimeoutError, type NetworkStep } from './errors.js';
import { redactProxyUrl } from './proxy.js';

export interface Response {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export interface Transport {
  request(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body?: string,
    signal?: AbortSignal,
  ): Promise<Response>;
  /** A streaming GET: one callback per line; ends on close, error, abort, or `idleMs` without a byte. */
  stream(
    url: URL,
    headers: Record<string, string>,
    onLine: (line: string) => void,
    onEnd: (error?: unknown) => void,
    idleMs: number,
  ): () => void;
}

export interface TransportOptions {
  /** The bound of each network step, and of one whole request. */
  requestTimeoutMs: number;
  /** The proxy for a URL (undefined: straight to the server). */
  proxyFor(url: URL): URL | undefined;
}

/** Sockets whose TLS handshake is done: a kept-alive socket handed to the next request needs no handshake. */
const secured = new WeakSet<Socket>();

/**
 * Bounds one request: a single timer whose error names the step in progress when it fires.
 * `untilHeaders`: the bound ends with the response headers (watches), else with the body's end (`done()`).
 */
function boundSteps(
  req: ClientRequest,
  ms: number,
  proxy: URL | undefined,
  onTimeout: (error: StepTimeoutError) => void,
  untilHeaders: boolean,
) {
  let step: NetworkStep = 'connect';
  const timer = setTimeout(
    () => onTimeout(new StepTimeoutError(step, ms, proxy ? redactProxyUrl(proxy) : undefined)),
    ms,
  );
  req.on('socket', (socket: Socket) => {
    const tls = (socket as TLSSocket).encrypted === true && !secured.has(socket);
    if (tls) {
      socket.once('secureConnect', () => {
        secured.add(socket);
        if (step === 'tls' || step === 'connect') step = 'headers';
      });
    }
    const connected = () => {
      if (step === 'connect') step = tls ? 'tls' : 'headers';
    };
    if (socket.connecting) socket.once('connect', connected);
    else connected();
  });
  req.on('response', () => {
    step = 'body';
    if (untilHeaders) clearTimeout(timer);
  });
  return { step: () => step, done: () => clearTimeout(timer) };
}

/** The reply codes of a SOCKS5 server that refuses a CONNECT (RFC 1928, section 6), by the socks library's names. */
const socksReplies: Record<string, string> = {
  Failure: '1: general SOCKS server failure',
  NotAllowed: '2: connection not allowed by ruleset',
  NetworkUnreachable: '3: network unreachable',
  HostUnreachable: '4: host unreachable',
  ConnectionRefused: '5: connection refused',
  TTLExpired: '6: TTL expired',
  CommandNotSupported: '7: command not supported',
  AddressNotSupported: '8: address type not supported',
};

/** What a SOCKS proxy's refusal means (the socks library reports it in words only), or undefined. */
function socksDetail(message: string): string | undefined {
  const rejected = /^Socks5 proxy rejected connection - (\w+)/.exec(message);
  if (rejected) return `the proxy refused the tunnel (SOCKS5 reply ${socksReplies[rejected[1]!] ?? rejected[1]})`;
  if (message.startsWith('Socks5 Authentication failed')) return 'the proxy refused our username and password (SOCKS5)';
  if (message.includes('no accepted authentication type'))
    return 'the proxy accepts none of our authentication methods (SOCKS5: does it need user:password@ in proxy-url?)';
  if (message === 'Socket closed') return 'the proxy closed the connection';
  return undefined;
}

/** A proxy's own failure (refused, unreachable, tunnel refused) named as such; other errors as they are. */
function proxyAware(error: unknown, proxy: URL | undefined, step: NetworkStep): unknown {
  if (!proxy || step !== 'connect' || error instanceof StepTimeoutError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const refused = /^Bad response: (\d+)/.exec(message);
  // The socks library passes a socket error on as its message alone ("connect ECONNREFUSED 127.0.0.1:1080").
  const given = (error as { code?: unknown }).code;
  const code = typeof given === 'string' ? given : /\b(E[A-Z_]{3,})\b/.exec(message)?.[1];
  const detail = refused
    ? `the proxy refused the tunnel (${refused[1]})`
    : (socksDetail(message) ??
      (code === 'ECONNREFUSED'
        ? 'connection to the proxy refused'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? "the proxy's host name was not found"
          : (code ?? message)));
  return new ProxyFailure(redactProxyUrl(proxy), detail, error, code);
}

export function createTransport(config: () => Promise<KubeConfig>, bounds: TransportOptions): Transport {
  const agents = new Map<string, HttpAgent>();
  let base: Promise<RequestOptions> | undefined;
  // The client library's agent for the kubeconfig's proxy-url, kept for socks5 proxies (which it speaks, hpagent not).
  let libraryAgent: RequestOptions['agent'];
  const tlsOf = (o: RequestOptions) => ({
    ca: o.ca,
    cert: o.cert,
    key: o.key,
    rejectUnauthorized: o.rejectUnauthorized,
    servername: o.servername,
  });

  /** TLS material and auth headers from the KubeConfig (its own agent is replaced by ours). */
  const baseOptions = () =>
    (base ??= config().then(async (kc) => {
      const options: RequestOptions = {};
      await kc.applyToHTTPSOptions(options);
      libraryAgent = options.agent;
      delete options.agent;
      return options;
    }));

  /**
   * One TLS context for every connection to the server: Node builds one per connection otherwise (the CA, certificate
   * and key parsed again, about a millisecond each). One that cannot be built is left to each connection, which then
   * fails as it always did.
   */
  let secureContext: SecureContext | undefined;
  const withContext = (tls: ReturnType<typeof tlsOf>) => {
    try {
      secureContext ??= createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
    } catch {
      return tls;
    }
    return { ...tls, secureContext };
  };

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
      const common = { proxy, keepAlive: true, timeout: bounds.requestTimeoutMs };
      agent = url.protocol === 'http:' ? new HttpProxyAgent(common) : new HttpsProxyAgent({ ...common, ...tls });
    }
    agents.set(key, agent);
    return agent;
  }

  async function prepare(url: URL, headers: Record<string, string>) {
    const options = await baseOptions();
    const proxy = bounds.proxyFor(url);
    const agent = await agentFor(url, options, proxy);
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return {
      send,
      proxy,
      options: { ...options, agent, headers: { ...(options.headers as Record<string, string>), ...headers } },
    };
  }
  const flatten = (response: IncomingMessage) =>
    Object.fromEntries(
      Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );

  return {
    async request(method, url, headers, body, signal) {
      // An explicit length: a chunked body on a DELETE leaves the kept-alive connection unusable for the next request.
      const sized = body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
      const { send, proxy, options } = await prepare(url, sized);
      return new Promise<Response>((resolve, reject) => {
        let settled = false;
        const settle = (error: unknown, response?: Response) => {
          if (settled) return;
          settled = true;
          bound.done();
          if (response) resolve(response);
          else reject(proxyAware(error, proxy, bound.step()));
        };
        const req = send(url, { ...options, method, signal }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => settle(error));
          response.on('end', () =>
            settle(undefined, {
              status: response.statusCode ?? 0,
              headers: flatten(response),
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        });
        const bound = boundSteps(
          req,
          bounds.requestTimeoutMs,
          proxy,
          (timeout) => {
            settle(timeout);
            req.destroy();
          },
          false,
        );
        req.on('error', (error) => settle(error));
        req.end(body);
      });
    },
    stream(url, headers, onLine, onEnd, idleMs) {
      let ended = false;
      const ignore = () => undefined;
      let req: ClientRequest | undefined;
      let res: IncomingMessage | undefined;
      let bound: ReturnType<typeof boundSteps> | undefined;
      let idle: NodeJS.Timeout | undefined;
      const end = (error?: unknown) => {
        if (ended) return;
        ended = true;
        clearTimeout(idle);
        bound?.done();
        // Destroying an open stream makes the request and response emit "aborted": expected, not an error.
        req?.on('error', ignore);
        res?.on('error', ignore);
        req?.destroy();
        res?.destroy();
        onEnd(error);
      };
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => end(new Error('watch idle')), idleMs);
      };
      void prepare(url, headers).then(({ send, proxy, options }) => {
        if (ended) return;
        req = send(url, { ...options, method: 'GET' }, (response) => {
          res = response;
          if ((response.statusCode ?? 0) !== 200) {
            response.resume();
            return end(
              Object.assign(new Error(`watch answered ${response.statusCode}`), { statusCode: response.statusCode }),
            );
          }
          touch();
          response.on('data', touch);
          response.on('error', end);
          const lines = createInterface({ input: response });
          lines.on('line', onLine);
          // readline passes the stream's errors on (a cut connection: "aborted"): the watch ended, resume it.
          lines.on('error', end);
          lines.on('close', () => end());
        });
        // Connect, TLS and headers within the request bound; after the headers, the idle bound.
        bound = boundSteps(req, bounds.requestTimeoutMs, proxy, end, true);
        req.on('error', (error) => end(proxyAware(error, proxy, bound!.step())));
        req.end();
      }, end);
      return () => end();
    },
  };
}
