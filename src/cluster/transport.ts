// HTTP to the API server over node:https with keep-alive, configured by @kubernetes/client-node's KubeConfig
// (certificates, token). The client library's own fetch stack (a bundled copy of undici) made up 40% of the scripts
// and a third of their start-up time; see bench/RESULTS.md.
// Every step is bounded: connect (through the proxy, if any), TLS handshake, response headers, and the whole body
// of a request, each within `requestTimeoutMs`; a watch's connect, handshake and headers too (its body may be idle
// for `idleMs`, then it is ended and the caller resumes it).
// The TLS material, auth headers and kept-alive agents (straight or through a proxy) come from agents.ts.
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { TLSSocket } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { createPreparer, type Prepare, type TransportOptions } from './agents.js';
import { StepTimeoutError, type NetworkStep } from './errors.js';
import { proxyAware } from './proxy-failure.js';
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

export function createTransport(config: () => Promise<KubeConfig>, bounds: TransportOptions): Transport {
  const prepare = createPreparer(config, bounds);
  return {
    request: (method, url, headers, body, signal) =>
      sendRequest(prepare, bounds.requestTimeoutMs, { method, url, headers, body, signal }),
    stream: (url, headers, onLine, onEnd, idleMs) =>
      openStream(prepare, bounds.requestTimeoutMs, { url, headers, onLine, onEnd, idleMs }),
  };
}

const flatten = (response: IncomingMessage) =>
  Object.fromEntries(
    Object.entries(response.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
  );

interface RequestArgs {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal | undefined;
}

/** One request, its whole body read, within the bound: the answer whatever its status, or the step that failed. */
async function sendRequest(prepare: Prepare, boundMs: number, args: RequestArgs): Promise<Response> {
  const { method, url, headers, body, signal } = args;
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
    const onTimeout = (timeout: StepTimeoutError) => {
      settle(timeout);
      req.destroy();
    };
    const bound = boundSteps(req, boundMs, proxy, onTimeout, false);
    req.on('error', (error) => settle(error));
    req.end(body);
  });
}

interface StreamArgs {
  url: URL;
  headers: Record<string, string>;
  onLine: (line: string) => void;
  onEnd: (error?: unknown) => void;
  idleMs: number;
}

/** A streaming GET (see Transport.stream); returns what stops it. */
function openStream(prepare: Prepare, boundMs: number, args: StreamArgs): () => void {
  const { url, headers, onLine, onEnd, idleMs } = args;
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
  const onResponse = (response: IncomingMessage) => {
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
  };
  void prepare(url, headers).then(({ send, proxy, options }) => {
    if (ended) return;
    req = send(url, { ...options, method: 'GET' }, onResponse);
    // Connect, TLS and headers within the request bound; after the headers, the idle bound.
    bound = boundSteps(req, boundMs, proxy, end, true);
    req.on('error', (error) => end(proxyAware(error, proxy, bound!.step())));
    req.end();
  }, end);
  return () => end();
}
