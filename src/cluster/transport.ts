// HTTP to the API server over node:https with keep-alive, configured by @kubernetes/client-node's KubeConfig
// (certificates, token or other authenticators, proxies). The client library's own fetch stack (a bundled copy of
// undici) made up 40% of the scripts and a third of their start-up time; see bench/RESULTS.md.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';

export interface Response {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export interface Transport {
  request(method: string, url: URL, headers: Record<string, string>, body?: string, signal?: AbortSignal): Promise<Response>;
  /** A streaming GET: one callback per line; ends on close, error, abort, or `idleMs` without a byte. */
  stream(url: URL, headers: Record<string, string>, onLine: (line: string) => void, onEnd: (error?: unknown) => void, idleMs: number): () => void;
}

/** Options for node:http(s) from the KubeConfig: TLS material, auth headers, and an agent (a proxy's, or ours). */
async function requestOptions(kc: KubeConfig): Promise<RequestOptions> {
  const options: RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const cluster = kc.getCurrentCluster();
  if (!cluster?.proxyUrl) {
    // Our own agent, so that the connection is kept between requests (the library's is not kept alive).
    const tls = { ca: options.ca, cert: options.cert, key: options.key, rejectUnauthorized: options.rejectUnauthorized, servername: options.servername };
    options.agent = cluster?.server.startsWith('http:') ? new HttpAgent({ keepAlive: true }) : new HttpsAgent({ ...tls, keepAlive: true });
  }
  return options;
}

export function createTransport(kc: KubeConfig): Transport {
  let base: Promise<RequestOptions> | undefined;
  const options = () => (base ??= requestOptions(kc));
  const send = (url: URL) => (url.protocol === 'http:' ? httpRequest : httpsRequest);
  const withHeaders = (o: RequestOptions, headers: Record<string, string>) => ({ ...o, headers: { ...(o.headers as Record<string, string>), ...headers } });
  const flatten = (response: IncomingMessage) =>
    Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));

  return {
    async request(method, url, headers, body, signal) {
      const o = await options();
      return new Promise<Response>((resolve, reject) => {
        // An explicit length: a chunked body on a DELETE leaves the kept-alive connection unusable for the next request.
        const sized = body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
        const req = send(url)(url, { ...withHeaders(o, sized), method, signal }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: flatten(response), text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        req.end(body);
      });
    },
    stream(url, headers, onLine, onEnd, idleMs) {
      let ended = false;
      const ignore = () => undefined;
      const end = (error?: unknown) => {
        if (ended) return;
        ended = true;
        clearTimeout(idle);
        // Destroying an open stream makes the request and response emit "aborted": expected, not an error.
        req?.on('error', ignore);
        res?.on('error', ignore);
        req?.destroy();
        res?.destroy();
        onEnd(error);
      };
      let idle = setTimeout(() => end(new Error('watch idle')), idleMs);
      const touch = () => {
        clearTimeout(idle);
        idle = setTimeout(() => end(new Error('watch idle')), idleMs);
      };
      let req: ReturnType<typeof httpsRequest> | undefined;
      let res: IncomingMessage | undefined;
      void options().then((o) => {
        if (ended) return;
        req = send(url)(url, { ...withHeaders(o, headers), method: 'GET' }, (response) => {
          res = response;
          if ((response.statusCode ?? 0) !== 200) {
            response.resume();
            return end(Object.assign(new Error(`watch answered ${response.statusCode}`), { statusCode: response.statusCode }));
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
        req.on('error', end);
        req.end();
      }, end);
      return () => end();
    },
  };
}
