// A fault-injecting HTTPS proxy between the scripts and the real kube-apiserver. It presents the apiserver's own
// serving certificate (so the scripts trust it with the cluster CA) and forwards with the admin client certificate.
// A rule decides per request: pass, answer with a status, reset the connection, stall, or cut a watch stream.
import { readFileSync } from 'node:fs';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { clusterDir, readSource } from './cluster.js';

export type Fault =
  | { kind: 'pass' }
  | { kind: 'status'; status: number; retryAfter?: number }
  | { kind: 'reset' }
  | { kind: 'stall'; ms: number }
  /** Pass a (watch) response through, then cut the connection after ms. */
  | { kind: 'cut'; ms: number }
  /** Send 200 and the first bytes of a body, then nothing until ms (then cut). */
  | { kind: 'stalled-body'; ms: number }
  /** Send 200 and then one byte every 300 ms, never completing, until ms (then cut). */
  | { kind: 'trickle'; ms: number };

export interface ProxyRequest {
  method: string;
  path: string;
  watch: boolean;
  /** How many requests with the same method and path (without query) came before this one. */
  seen: number;
}

export interface FaultProxy {
  url: string;
  /** Every request with the fault applied to it. */
  log: { request: ProxyRequest; fault: Fault['kind'] }[];
  close(): Promise<void>;
}

export async function startFaultProxy(rule: (request: ProxyRequest) => Fault): Promise<FaultProxy> {
  const pki = join(clusterDir, 'pki');
  const upstream = new URL((readSource() as unknown as { cluster_url: string }).cluster_url);
  const ca = readFileSync(join(pki, 'ca.crt'));
  const cert = readFileSync(join(pki, 'admin.crt'));
  const key = readFileSync(join(pki, 'admin.key'));
  const seen = new Map<string, number>();
  const log: FaultProxy['log'] = [];
  const sockets = new Set<{ destroy(): void }>();

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const key_ = `${req.method} ${url.pathname}`;
    const count = seen.get(key_) ?? 0;
    seen.set(key_, count + 1);
    const request: ProxyRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      watch: url.searchParams.get('watch') === 'true',
      seen: count,
    };
    const fault = rule(request);
    log.push({ request, fault: fault.kind });
    if (fault.kind === 'status') {
      req.resume();
      res.writeHead(fault.status, {
        'content-type': 'application/json',
        ...(fault.retryAfter ? { 'retry-after': String(fault.retryAfter) } : {}),
      });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: `injected ${fault.status}`,
          code: fault.status,
        }),
      );
      return;
    }
    if (fault.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault.kind === 'stall') {
      setTimeout(() => req.socket.destroy(), fault.ms).unref();
      return;
    }
    if (fault.kind === 'stalled-body' || fault.kind === 'trickle') {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"kind":"');
      const trickle = fault.kind === 'trickle' ? setInterval(() => res.write(' '), 300) : undefined;
      setTimeout(() => {
        clearInterval(trickle);
        req.socket.destroy();
      }, fault.ms).unref();
      req.socket.on('close', () => clearInterval(trickle));
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization; // the proxy authenticates as the admin
    const forward = httpsRequest(
      { hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers, ca, cert, key },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        if (fault.kind === 'cut') setTimeout(() => req.socket.destroy(), fault.ms).unref();
      },
    );
    forward.on('error', () => req.socket.destroy());
    req.pipe(forward);
  };

  const server: Server = createServer(
    { cert: readFileSync(join(pki, 'apiserver.crt')), key: readFileSync(join(pki, 'apiserver.key')) },
    handle,
  );
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
