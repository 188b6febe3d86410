// The local test cluster as the bench sees it: the admin source (for the bench's own observer watches), and per-step
// client identities (CN=kdr-bench-RUN-STEP, O=system:masters) signed with the cluster's throwaway CA, so every
// request a measured process makes is attributable in the audit log by user name — other engineers' tests running
// against the same cluster at the same time use the admin identity and never pollute the counts.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterDir, readSource, sourcePath, type ClusterSource } from '../../test/support/cluster.js';
import { base64, makeEcKey, signClientCert } from '../../test/support/pki.js';

/** The admin source of the local test cluster (source.json), which must be on 127.0.0.1. */
export interface AdminSource extends ClusterSource {
  cluster_ca: string;
  admin_cert: string;
  admin_key: string;
}

export function readAdminSource(): AdminSource {
  if (!existsSync(sourcePath)) throw new Error(`${sourcePath} is missing: run \`npm run cluster:up\` first`);
  const source = readSource();
  const url = new URL(source.cluster_url);
  if (url.hostname !== '127.0.0.1')
    throw new Error(`the bench only talks to 127.0.0.1, and ${source.cluster_url} is not`);
  if (!source.cluster_ca || !source.admin_cert || !source.admin_key)
    throw new Error(`${sourcePath}: the bench needs cluster_ca, admin_cert and admin_key`);
  return source as AdminSource;
}

const unbase64 = (text: string) => Buffer.from(text, 'base64').toString('utf8');

/** One measured step's client identity. */
export interface Identity {
  name: string;
  /** The user name the audit log records: kdr-bench-RUN-NAME. */
  user: string;
  /** The resource's source fields authenticating as this user. */
  source: { cluster_url: string; cluster_ca: string; admin_cert: string; admin_key: string };
  /** A kubeconfig file for kubectl as this user. */
  kubeconfig: string;
}

/** Mints a client certificate per step from one key (fast: one keygen, then one signature per identity). */
export class Identities {
  private readonly dir = mkdtempSync(join(tmpdir(), 'kdr-bench-pki-'));
  private readonly caCertPath = join(clusterDir, 'pki', 'ca.crt');
  private readonly caKeyPath = join(clusterDir, 'pki', 'ca.key');
  private readonly keyPem: string;
  private readonly made = new Map<string, Identity>();
  private readonly admin: AdminSource;
  private readonly runId: string;

  constructor(admin: AdminSource, runId: string) {
    this.admin = admin;
    this.runId = runId;
    if (!existsSync(this.caKeyPath))
      throw new Error(`${this.caKeyPath} is missing (the bench signs its own client certs with the test cluster's CA)`);
    this.keyPem = makeEcKey();
  }

  get(name: string): Identity {
    const known = this.made.get(name);
    if (known) return known;
    const user = `kdr-bench-${this.runId}-${name}`;
    const certPem = signClientCert({
      caCertPath: this.caCertPath,
      caKeyPath: this.caKeyPath,
      keyPem: this.keyPem,
      subject: `/O=system:masters/CN=${user}`,
    });
    const source = {
      cluster_url: this.admin.cluster_url,
      cluster_ca: this.admin.cluster_ca,
      admin_cert: base64(certPem),
      admin_key: base64(this.keyPem),
    };
    const kubeconfig = join(this.dir, `${name}.kubeconfig`);
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'bench',
            cluster: { server: this.admin.cluster_url, 'certificate-authority-data': this.admin.cluster_ca },
          },
        ],
        users: [
          { name: user, user: { 'client-certificate-data': base64(certPem), 'client-key-data': source.admin_key } },
        ],
        contexts: [{ name: 'bench', context: { cluster: 'bench', user } }],
        'current-context': 'bench',
      }),
      { mode: 0o600 },
    );
    const identity = { name, user, source, kubeconfig };
    this.made.set(name, identity);
    return identity;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A Kubernetes object as the bench reads it (loosely: it only looks at a few fields). */
export type KubeObject = Record<string, any>;

export interface ApiResponse {
  status: number;
  body: any;
}

export interface Watch {
  /** Resolves once the watch is established. */
  ready: Promise<void>;
  stop(): void;
}

/** A minimal API client (admin identity) for the bench's own set-up, observation and clean-up. */
export class Api {
  private readonly base: URL;
  private readonly tls: { ca: string; cert: string; key: string };
  private readonly agent: https.Agent;
  private readonly userAgent: string;

  constructor(source: AdminSource, userAgent = 'kdr-bench-observer') {
    this.userAgent = userAgent;
    this.base = new URL(source.cluster_url);
    this.tls = { ca: unbase64(source.cluster_ca), cert: unbase64(source.admin_cert), key: unbase64(source.admin_key) };
    this.agent = new https.Agent({ ...this.tls, keepAlive: true });
  }

  request(method: string, path: string, body?: unknown, { agent = this.agent } = {}): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = https.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          path,
          method,
          agent,
          ...this.tls,
          headers: {
            Accept: 'application/json',
            'User-Agent': this.userAgent,
            ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('end', () => {
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = text;
            }
            resolve({ status: res.statusCode ?? 0, body: json });
          });
        },
      );
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      if (data) req.write(data);
      req.end();
    });
  }

  /** The response body; throws on an HTTP status ≥ 300. */
  async ok(method: string, path: string, body?: unknown): Promise<KubeObject> {
    const response = await this.request(method, path, body);
    if (response.status >= 300)
      throw new Error(`${method} ${path}: HTTP ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
    return response.body as KubeObject;
  }

  /** One request on a fresh TLS connection (handshake included), as a cold script makes its first call. */
  async coldRequest(path: string): Promise<number> {
    const agent = new https.Agent({ ...this.tls, keepAlive: false });
    const started = performance.now();
    const response = await this.request('GET', path, undefined, { agent });
    const elapsed = performance.now() - started;
    agent.destroy();
    if (response.status >= 300) throw new Error(`GET ${path}: HTTP ${response.status}`);
    return elapsed;
  }

  createNamespace(name: string, labels: Record<string, string> = {}): Promise<KubeObject> {
    return this.ok('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kdr-bench': 'true', ...labels } },
    });
  }

  /** Requests deletion of the namespaces; waits for them to be gone when asked (at most timeoutMs). */
  async deleteNamespaces(names: readonly string[], { wait = false, timeoutMs = 60_000 } = {}): Promise<boolean> {
    await Promise.all(names.map((name) => this.request('DELETE', `/api/v1/namespaces/${name}`)));
    if (!wait) return true;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const responses = await Promise.all(names.map((name) => this.request('GET', `/api/v1/namespaces/${name}`)));
      if (responses.every((response) => response.status === 404)) return true;
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /**
   * Watches a collection (path without the watch query), calling onEvent(type, object, atMs) with the time each event
   * arrived (performance.now()).
   */
  watch(path: string, onEvent: (type: string, object: KubeObject | undefined, at: number) => void): Watch {
    let stopped = false;
    const req = https.request({
      host: this.base.hostname,
      port: this.base.port,
      path: `${path}${path.includes('?') ? '&' : '?'}watch=true`,
      method: 'GET',
      agent: new https.Agent({ ...this.tls, keepAlive: false }),
      ...this.tls,
      headers: { Accept: 'application/json', 'User-Agent': this.userAgent },
    });
    const ready = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        if (res.statusCode !== 200) return reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
        resolve();
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const at = performance.now();
          buffer += chunk;
          let newline;
          while ((newline = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, newline);
            buffer = buffer.slice(newline + 1);
            if (!line.trim()) continue;
            try {
              const event = JSON.parse(line) as { type: string; object?: KubeObject };
              onEvent(event.type, event.object, at);
            } catch {
              // a partial or non-JSON line: ignore
            }
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', (error) => (stopped ? undefined : reject(error)));
    });
    req.end();
    return {
      ready,
      stop: () => {
        stopped = true;
        req.destroy();
      },
    };
  }
}
