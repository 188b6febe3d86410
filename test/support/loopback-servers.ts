// Misbehaving servers on 127.0.0.1 for the network bounds (issue 12): one that accepts TCP and never speaks, one that
// completes TLS and never sends headers, one that sends headers and stalls the body, one that trickles bytes slowly.
// Plus a CONNECT proxy that records the tunnels it opens. Their certificates are made with openssl at run time.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import {
  connect as netConnect,
  createServer as createNetServer,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, opensslIn } from './pki.js';

export interface ServerPki {
  caPem: string;
  certPem: string;
  keyPem: string;
}

let cached: ServerPki | undefined;

/** Names the serving certificate holds besides 127.0.0.1 and localhost: tests reach them only through a proxy. */
export const proxiedHost = 'kube.test';
export const proxiedIp = '10.255.255.1';

/** A CA and a serving certificate for 127.0.0.1, localhost, kube.test and 10.255.255.1. */
export function loopbackPki(): ServerPki {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'kdr-loopback-pki-'));
  const run = opensslIn(dir);
  try {
    makeCa(dir, 'loopback-ca');
    run(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      '/CN=127.0.0.1',
    );
    writeFileSync(
      join(dir, 'ext.cnf'),
      `subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:${proxiedHost},IP:${proxiedIp}\n`,
    );
    run(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-extfile',
      'ext.cnf',
    );
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    cached = { caPem: read('ca.crt'), certPem: read('server.crt'), keyPem: read('server.key') };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type Misbehaviour = 'silent-tcp' | 'no-headers' | 'stalled-body' | 'trickle';

export interface LoopbackServer {
  url: string;
  /** How many connections (silent-tcp) or requests (the others) it got. */
  hits(): number;
  close(): Promise<void>;
}

async function listen(server: NetServer | HttpServer | HttpsServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function tracked(server: NetServer | HttpServer | HttpsServer) {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

/** A server on 127.0.0.1 that misbehaves in one way, for every connection or request. */
export async function startMisbehavingServer(kind: Misbehaviour): Promise<LoopbackServer> {
  let hits = 0;
  const timers = new Set<NodeJS.Timeout>();
  if (kind === 'silent-tcp') {
    const server = createNetServer((socket) => {
      hits++;
      socket.on('error', () => undefined); // reads (the ClientHello) and never answers
    });
    const close = tracked(server);
    const port = await listen(server);
    return { url: `https://127.0.0.1:${port}`, hits: () => hits, close };
  }
  const { certPem, keyPem } = loopbackPki();
  const server = createHttpsServer({ cert: certPem, key: keyPem }, (req: IncomingMessage, res) => {
    hits++;
    req.resume();
    if (kind === 'no-headers') return;
    // A list's (or a watch's) beginning, then nothing more (stalled-body) or a byte every 300 ms (trickle).
    res.writeHead(200, { 'content-type': 'application/json' });
    const body =
      '{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[' + ' '.repeat(10_000);
    res.write(body.slice(0, 20));
    if (kind === 'stalled-body') return;
    let at = 20;
    const timer = setInterval(() => {
      if (at >= body.length || res.destroyed) return clearInterval(timer);
      res.write(body[at++]!);
    }, 300);
    timers.add(timer);
  });
  const closeServer = tracked(server);
  const port = await listen(server);
  return {
    url: `https://127.0.0.1:${port}`,
    hits: () => hits,
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      await closeServer();
    },
  };
}

/**
 * An API server stand-in that answers every request with an empty list (enough for check); `authorizations` holds
 * each request's Authorization header.
 */
export async function startEmptyListServer(): Promise<LoopbackServer & { port: number; authorizations: string[] }> {
  let hits = 0;
  const authorizations: string[] = [];
  const { certPem, keyPem } = loopbackPki();
  const server = createHttpsServer({ cert: certPem, key: keyPem }, (req, res) => {
    hits++;
    authorizations.push(req.headers.authorization ?? '');
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    // As the API server: a list asked for as metadata (check's records) comes as a PartialObjectMetadataList.
    res.end(
      /as=PartialObjectMetadataList/.test(req.headers.accept ?? '')
        ? '{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1",' +
            '"metadata":{"resourceVersion":"1"},"items":[]}'
        : '{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[]}',
    );
  });
  const close = tracked(server);
  const port = await listen(server);
  return { url: `https://127.0.0.1:${port}`, port, hits: () => hits, authorizations, close };
}

export interface Tunnel {
  /** host:port the client asked for. */
  target: string;
  /** The Proxy-Authorization header, decoded (user:password), if any. */
  credentials?: string;
}

export interface ConnectProxy {
  url: string;
  tunnels: Tunnel[];
  close(): Promise<void>;
}

/**
 * An HTTP CONNECT proxy on 127.0.0.1 that records every tunnel. `route` maps the requested target to where the tunnel
 * really goes (tests ask for a name that does not resolve and land on the test cluster); `refuse` answers every
 * CONNECT with that status instead.
 */
export async function startConnectProxy(
  options: { route?: (target: string) => { host: string; port: number }; refuse?: number } = {},
): Promise<ConnectProxy> {
  const tunnels: Tunnel[] = [];
  const server = createHttpServer((_req, res) => {
    res.writeHead(405);
    res.end('CONNECT only');
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const auth = req.headers['proxy-authorization'];
    const credentials =
      typeof auth === 'string' && auth.startsWith('Basic ')
        ? Buffer.from(auth.slice(6), 'base64').toString('utf8')
        : undefined;
    tunnels.push({ target: req.url ?? '', ...(credentials ? { credentials } : {}) });
    client.on('error', () => undefined);
    if (options.refuse) {
      client.end(`HTTP/1.1 ${options.refuse} Refused\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? '').split(/:(?=\d+$)/) as [string, string];
    const to = options.route ? options.route(req.url ?? '') : { host, port: Number(port) };
    // Tests never reach beyond this machine: a tunnel to anything but loopback is refused, whatever was asked.
    if (!/^(127\.\d+\.\d+\.\d+|localhost|\[?::1\]?)$/.test(to.host)) {
      client.end('HTTP/1.1 502 Not Routed By The Test Proxy\r\n\r\n');
      return;
    }
    const upstream = netConnect(to.port, to.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  const close = tracked(server);
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}`, tunnels, close };
}

export interface SocksProxy {
  url: string;
  /** Every CONNECT request, refused or not: the destination as asked (host:port) and the user:password sent. */
  tunnels: Tunnel[];
  /** Every username/password authentication (user:password), accepted or not. */
  logins: string[];
  close(): Promise<void>;
}

/** SOCKS5 reply codes (RFC 1928, section 6) the tests use. */
export const socksReply = { succeeded: 0, notAllowed: 2, hostUnreachable: 4, connectionRefused: 5 } as const;

/**
 * A SOCKS5 proxy on 127.0.0.1 (RFC 1928, CONNECT only) that records every tunnel. Without `credentials` it takes
 * clients without authentication; with them it demands username/password authentication (RFC 1929) and refuses any
 * other pair. `route` maps the requested destination to where the tunnel really goes; `refuse` answers every CONNECT
 * with that reply code instead. Like the CONNECT proxy, it never opens a tunnel to anything but loopback.
 */
export async function startSocksProxy(
  options: {
    route?: (target: string) => { host: string; port: number };
    refuse?: number;
    credentials?: string;
  } = {},
): Promise<SocksProxy> {
  const tunnels: Tunnel[] = [];
  const logins: string[] = [];
  const server = createNetServer((client) => {
    client.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    let waiting: { n: number; resolve: (b: Buffer) => void } | undefined;
    const deliver = () => {
      if (!waiting || buffered.length < waiting.n) return;
      const { n, resolve } = waiting;
      waiting = undefined;
      const bytes = buffered.subarray(0, n);
      buffered = buffered.subarray(n);
      resolve(bytes);
    };
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      deliver();
    };
    client.on('data', onData);
    const read = (n: number) =>
      new Promise<Buffer>((resolve) => {
        waiting = { n, resolve };
        deliver();
      });
    const reply = (code: number) => client.write(Buffer.from([5, code, 0, 1, 0, 0, 0, 0, 0, 0]));

    void (async () => {
      const [version, count] = await read(2);
      if (version !== 5) return client.destroy();
      const methods = [...(await read(count!))];
      const method = options.credentials ? 2 : 0;
      if (!methods.includes(method)) return client.end(Buffer.from([5, 0xff]));
      client.write(Buffer.from([5, method]));
      let credentials: string | undefined;
      if (method === 2) {
        const [, userLength] = await read(2);
        const user = (await read(userLength!)).toString('utf8');
        const [passwordLength] = await read(1);
        const password = (await read(passwordLength!)).toString('utf8');
        credentials = `${user}:${password}`;
        logins.push(credentials);
        if (credentials !== options.credentials) return client.end(Buffer.from([1, 1]));
        client.write(Buffer.from([1, 0]));
      }
      const [, command, , addressType] = await read(4);
      let host: string;
      if (addressType === 1) host = [...(await read(4))].join('.');
      else if (addressType === 3) host = (await read((await read(1))[0]!)).toString('utf8');
      else if (addressType === 4) {
        const raw = await read(16);
        host = `[${Array.from({ length: 8 }, (_, i) => raw.readUInt16BE(i * 2).toString(16)).join(':')}]`;
      } else return client.destroy();
      const port = (await read(2)).readUInt16BE(0);
      const target = `${host}:${port}`;
      tunnels.push({ target, ...(credentials ? { credentials } : {}) });
      if (command !== 1) return client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
      if (options.refuse) {
        reply(options.refuse);
        return client.end();
      }
      const to = options.route ? options.route(target) : { host: host.replace(/^\[|\]$/g, ''), port };
      // Tests never reach beyond this machine: a tunnel to anything but loopback is refused, whatever was asked.
      if (!/^(127\.\d+\.\d+\.\d+|localhost|::1|0:0:0:0:0:0:0:1)$/.test(to.host)) {
        reply(socksReply.notAllowed);
        return client.end();
      }
      const upstream = netConnect(to.port, to.host, () => {
        reply(socksReply.succeeded);
        client.off('data', onData);
        if (buffered.length) upstream.write(buffered);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => {
        if (!client.destroyed) reply(socksReply.connectionRefused);
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
    })();
  });
  const close = tracked(server);
  const port = await listen(server);
  return { url: `socks5://127.0.0.1:${port}`, tunnels, logins, close };
}
