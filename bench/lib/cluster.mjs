// The local test cluster as the bench sees it: the admin source (for the bench's own observer watches), and per-phase
// client identities (CN=kdr-bench-RUN-PHASE, O=system:masters) signed with the cluster's throwaway CA, so every request a
// measured process makes is attributable in the audit log by user name — other engineers' tests running against the
// same cluster at the same time use the admin identity and never pollute the counts.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..');
export const clusterDir = join(root, '.cluster');
export const auditLogPath = join(clusterDir, 'logs', 'audit.log');

const b64 = (s) => Buffer.from(s).toString('base64');
const unb64 = (s) => Buffer.from(s, 'base64').toString('utf8');

export function readAdminSource() {
  const file = join(clusterDir, 'source.json');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run cluster:up\` first`);
  const s = JSON.parse(readFileSync(file, 'utf8'));
  const url = new URL(s.cluster_url);
  if (url.hostname !== '127.0.0.1') throw new Error(`the bench only talks to 127.0.0.1, and ${s.cluster_url} is not`);
  return s;
}

/** Mints client certs per phase from one key (fast: one RSA keygen, then one signature per identity). */
export class Identities {
  constructor(source, runId) {
    this.source = source;
    this.runId = runId;
    this.dir = mkdtempSync(join(tmpdir(), 'kdr-bench-pki-'));
    this.caKey = join(clusterDir, 'pki', 'ca.key');
    this.caCrt = join(clusterDir, 'pki', 'ca.crt');
    if (!existsSync(this.caKey))
      throw new Error(`${this.caKey} is missing (the bench signs its own client certs with the test cluster's CA)`);
    execFileSync(
      'openssl',
      ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(this.dir, 'key.pem')],
      { stdio: 'pipe' },
    );
    this.keyPem = readFileSync(join(this.dir, 'key.pem'), 'utf8');
    this.made = new Map();
  }

  /** { user, source (the resource's source fields), kubeconfig (path) } for CN=kdr-bench-RUN-NAME. */
  get(name) {
    if (this.made.has(name)) return this.made.get(name);
    const user = `kdr-bench-${this.runId}-${name}`;
    const csr = join(this.dir, `${name}.csr`);
    const crt = join(this.dir, `${name}.crt`);
    const ext = join(this.dir, 'client.ext');
    writeFileSync(ext, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    execFileSync(
      'openssl',
      ['req', '-new', '-key', join(this.dir, 'key.pem'), '-subj', `/O=system:masters/CN=${user}`, '-out', csr],
      { stdio: 'pipe' },
    );
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        this.caCrt,
        '-CAkey',
        this.caKey,
        '-CAcreateserial',
        '-CAserial',
        join(this.dir, 'ca.srl'),
        '-sha256',
        '-days',
        '2',
        '-extfile',
        ext,
        '-out',
        crt,
      ],
      { stdio: 'pipe' },
    );
    const certPem = readFileSync(crt, 'utf8');
    const source = {
      cluster_url: this.source.cluster_url,
      cluster_ca: this.source.cluster_ca,
      admin_cert: b64(certPem),
      admin_key: b64(this.keyPem),
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
            cluster: { server: this.source.cluster_url, 'certificate-authority-data': this.source.cluster_ca },
          },
        ],
        users: [{ name: user, user: { 'client-certificate-data': b64(certPem), 'client-key-data': b64(this.keyPem) } }],
        contexts: [{ name: 'bench', context: { cluster: 'bench', user } }],
        'current-context': 'bench',
      }),
    );
    const id = { name, user, source, kubeconfig };
    this.made.set(name, id);
    return id;
  }

  cleanup() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A minimal API client (admin identity) for the bench's own set-up, observation and clean-up. */
export class Api {
  constructor(source, { userAgent = 'kdr-bench-observer' } = {}) {
    this.base = new URL(source.cluster_url);
    this.tls = { ca: unb64(source.cluster_ca), cert: unb64(source.admin_cert), key: unb64(source.admin_key) };
    this.agent = new https.Agent({ ...this.tls, keepAlive: true });
    this.userAgent = userAgent;
  }

  request(method, path, body, { agent = this.agent, contentType = 'application/json' } = {}) {
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
            ...(data ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) } : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (text += d));
          res.on('end', () => {
            let json;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = text;
            }
            resolve({ status: res.statusCode, body: json });
          });
        },
      );
      req.on('error', reject);
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      if (data) req.write(data);
      req.end();
    });
  }

  async ok(method, path, body, opts) {
    const r = await this.request(method, path, body, opts);
    if (r.status >= 300) throw new Error(`${method} ${path}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body;
  }

  /** One request on a fresh TLS connection (handshake included), as a cold script makes its first call. */
  async coldRequest(path) {
    const agent = new https.Agent({ ...this.tls, keepAlive: false });
    const t0 = performance.now();
    const r = await this.request('GET', path, undefined, { agent });
    const ms = performance.now() - t0;
    agent.destroy();
    if (r.status >= 300) throw new Error(`GET ${path}: HTTP ${r.status}`);
    return ms;
  }

  createNamespace(name, labels = {}) {
    return this.ok('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, labels: { 'kdr-bench': 'true', ...labels } },
    });
  }

  /** Requests deletion of the namespaces; waits for them to be gone when asked (at most timeoutMs). */
  async deleteNamespaces(names, { wait = false, timeoutMs = 60_000 } = {}) {
    await Promise.all(names.map((n) => this.request('DELETE', `/api/v1/namespaces/${n}`)));
    if (!wait) return true;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = (await Promise.all(names.map((n) => this.request('GET', `/api/v1/namespaces/${n}`)))).filter(
        (r) => r.status !== 404,
      );
      if (left.length === 0) return true;
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /**
   * Watches a collection (path without query; the query is added), calling onEvent(type, object, atMs) with the time
   * the event arrived (performance.now()). Returns { ready: Promise (the watch is established), stop() }.
   */
  watch(path, onEvent) {
    let req;
    let stopped = false;
    const ready = new Promise((resolve, reject) => {
      req = https.request(
        {
          host: this.base.hostname,
          port: this.base.port,
          path: `${path}${path.includes('?') ? '&' : '?'}watch=true`,
          method: 'GET',
          agent: new https.Agent({ ...this.tls, keepAlive: false }),
          ...this.tls,
          headers: { Accept: 'application/json', 'User-Agent': this.userAgent },
        },
        (res) => {
          if (res.statusCode !== 200) return reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
          resolve();
          let buffer = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            const at = performance.now();
            buffer += chunk;
            let nl;
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl);
              buffer = buffer.slice(nl + 1);
              if (!line.trim()) continue;
              try {
                const ev = JSON.parse(line);
                onEvent(ev.type, ev.object, at);
              } catch {
                /* a partial or non-JSON line: ignore */
              }
            }
          });
          res.on('error', () => undefined);
        },
      );
      req.on('error', (e) => (stopped ? undefined : reject(e)));
      req.end();
    });
    return { ready, stop: () => ((stopped = true), req.destroy()) };
  }
}
