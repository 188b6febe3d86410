// Plumbing for the fuzz suite: a TCP server that counts every connection (the "cluster"), the sources-dir fixture, a
// bounded pool running the compiled scripts, and the per-case checks.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FuzzCase } from './fuzz-requests.js';
import type { TestPki } from './pki.js';
import { pool } from './pool.js';
import { lines, runScript, type ScriptName, type ScriptResult } from './run-script.js';

export interface Connection {
  /** When the TCP connection was accepted (ms since epoch). */
  at: number;
  remotePort?: number;
  /** The request path, when the TLS handshake succeeded and a request arrived (it holds the case id, see `url`). */
  path?: string;
}

export interface CountingServer {
  /** `https://127.0.0.1:PORT/@ID@`: the runner replaces `@ID@` by the case id. */
  url: (scheme?: 'http' | 'https') => string;
  /** Every TCP connection accepted so far. */
  connections: Connection[];
  close: () => Promise<void>;
}

/**
 * The "cluster": an https server on 127.0.0.1 that counts every accepted TCP connection, whether or not the TLS
 * handshake then succeeds (its certificate is the test PKI's client certificate, so only a client that skips
 * verification gets through). A request that does get through is answered with an empty list.
 */
export async function countingServer(pki: TestPki): Promise<CountingServer> {
  const connections: Connection[] = [];
  const server = createHttpsServer({ cert: pki.clientCert, key: pki.clientKey }, (req, res) => {
    const entry = connections.findLast((c) => c.remotePort === req.socket.remotePort);
    if (entry) entry.path = req.url;
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
    res.end(JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: {}, items: [] }));
  });
  server.on('connection', (socket: Socket) => {
    connections.push({ at: Date.now(), remotePort: socket.remotePort });
    socket.on('error', () => undefined);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (scheme = 'https') => `${scheme}://127.0.0.1:${port}/@ID@`,
    connections,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Fixture {
  root: string;
  sources: string;
  outside: string;
}

const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: b\n`;

/**
 * sources/ holds valid inputs (img, manifests/good.yml, ns/good) and every kind of bad one; outside/ (its sibling)
 * holds valid inputs that sources/ reaches only through symlinks.
 */
export function makeFixture(): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'kdr-fuzz-'));
  const sources = join(root, 'sources');
  const outside = join(root, 'outside');
  const file = (path: string, content: string) => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  };
  const digest = `sha256:${'c'.repeat(64)}`;
  file(join(outside, 'img', 'repository'), 'registry.example.com/outside\n');
  file(join(outside, 'img', 'tag'), '1.0\n');
  file(join(outside, 'ns'), 'ns-outside\n');
  file(join(outside, 'good.yml'), configMap('outside-config'));

  file(join(sources, 'img', 'repository'), 'registry.example.com/web\n');
  file(join(sources, 'img', 'tag'), '1.0.0\n');
  file(join(sources, 'img', 'digest'), `${digest}\n`);
  file(join(sources, 'img-notag', 'repository'), 'registry.example.com/web\n');
  file(join(sources, 'img-notag', 'digest'), `${digest}\n`);
  file(join(sources, 'img-file'), 'registry.example.com/web:1\n');
  mkdirSync(join(sources, 'img-empty'), { recursive: true });
  file(join(sources, 'img-badref', 'repository'), 'NOT A/VALID REF\n');
  file(join(sources, 'img-badref', 'tag'), '1\n');
  file(join(sources, 'img-bigtag', 'repository'), 'registry.example.com/web\n');
  file(join(sources, 'img-bigtag', 'tag'), 't'.repeat(5000));
  file(join(sources, 'img-onlytag', 'tag'), '1.0\n');
  symlinkSync(join(outside, 'img'), join(sources, 'img-link'));

  file(join(sources, 'ns', 'good'), 'ns-good\n');
  file(join(sources, 'ns', 'bad'), 'Not_Valid\n');
  file(join(sources, 'ns', 'empty'), '\n');
  file(join(sources, 'ns', 'big'), 'a'.repeat(300));
  symlinkSync(join(outside, 'ns'), join(sources, 'ns', 'link'));

  file(join(sources, 'manifests', 'good.yml'), configMap('extra-config'));
  file(join(sources, 'manifests', 'other.yml'), configMap('other-config'));
  mkdirSync(join(sources, 'links'), { recursive: true });
  symlinkSync(join(outside, 'good.yml'), join(sources, 'links', 'manifest.yml'));
  symlinkSync(outside, join(sources, 'dir-link'));
  // Valid YAML (comments), just over the 4 MiB limit.
  file(join(sources, 'big', 'big.yml'), configMap('big') + ('#' + 'x'.repeat(1023) + '\n').repeat(4 * 1024 + 1));
  mkdirSync(join(sources, 'gen'), { recursive: true });
  return { root, sources, outside };
}

export interface CaseOutcome {
  id: string;
  fuzzCase: FuzzCase;
  result: ScriptResult;
  problems: string[];
  started: number;
  ended: number;
}

/** Everything the contract promises for a refused request. `secrets` must not appear in stdout or stderr. */
export function checkOutcome(fuzzCase: FuzzCase, result: ScriptResult, secrets: readonly string[]): string[] {
  const problems: string[] = [];
  if (result.signal) problems.push(`killed by ${result.signal}`);
  if (result.code !== fuzzCase.expectCode) problems.push(`exit code ${result.code}, expected ${fuzzCase.expectCode}`);
  if (result.stdout !== '') problems.push('stdout is not empty');
  const errLines = lines(result.stderr);
  if (errLines.length !== 1) problems.push(`${errLines.length} lines on stderr, expected 1`);
  if (!errLines[0]?.startsWith('error: ')) problems.push('stderr does not start with "error: "');
  if (/^\s+at /m.test(result.stderr)) problems.push('stack trace on stderr');
  for (const secret of secrets) {
    if (result.stdout.includes(secret) || result.stderr.includes(secret))
      problems.push(`secret echoed: ${secret.slice(0, 24)}…`);
  }
  if (fuzzCase.expectCode === 3 && !/expired/.test(result.stderr))
    problems.push('exit 3 without naming the expired certificate');
  return problems;
}

/** A `npm run build` elsewhere rewrites assets/ in place: spawning then fails with ETXTBSY for a moment. */
async function spawnRetrying<T>(spawnOnce: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'ETXTBSY' && code !== 'ENOENT') || attempt >= 20) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Runs the cases `concurrency` at a time; `@ID@` in stdin and file names becomes `<script>-<index>`. */
export async function runCases(
  script: ScriptName,
  cases: FuzzCase[],
  fixture: Fixture,
  secrets: readonly string[],
  concurrency: number,
): Promise<CaseOutcome[]> {
  return pool(cases, concurrency, async (fuzzCase, index): Promise<CaseOutcome> => {
    const id = `${script}-${index}`;
    for (const [name, content] of Object.entries(fuzzCase.files ?? {}))
      writeFileSync(join(fixture.sources, name.replaceAll('@ID@', id)), content);
    const dir =
      fuzzCase.dir === 'none' || script === 'check'
        ? undefined
        : script === 'out'
          ? fixture.sources
          : join(fixture.root, 'dest', id);
    const started = Date.now();
    const result = await spawnRetrying(() =>
      runScript(script, fuzzCase.stdin.replaceAll('@ID@', id), { dir, env: fuzzCase.env, timeoutMs: 60_000 }),
    );
    return { id, fuzzCase, result, problems: checkOutcome(fuzzCase, result, secrets), started, ended: Date.now() };
  });
}

/** For each connection: the request path if one arrived, else the cases that were running when it was accepted. */
export function attribute(connections: readonly Connection[], outcomes: readonly CaseOutcome[]): string[] {
  return connections.map((c) => {
    if (c.path) return `request ${c.path}`;
    const running = outcomes.filter((o) => o.started <= c.at && c.at <= o.ended + 50).map((o) => o.id);
    return `connection at ${new Date(c.at).toISOString()} while ${running.join(', ') || 'no case'} ran`;
  });
}

const clip = (text: string, n: number) => (text.length > n ? `${text.slice(0, n)}… (${text.length} chars)` : text);

/** A failed case, readable and replayable (the seed and the id find it again). */
export function describeFailure(o: CaseOutcome): string {
  return [
    `[${o.id}] ${o.fuzzCase.category}${o.fuzzCase.detail ? ` (${o.fuzzCase.detail})` : ''}: ${o.problems.join('; ')}`,
    `  stdin: ${clip(o.fuzzCase.stdin, 400)}`,
    ...(o.fuzzCase.env ? [`  env: ${JSON.stringify(o.fuzzCase.env)}`] : []),
    ...(o.fuzzCase.files ? [`  files: ${clip(JSON.stringify(o.fuzzCase.files), 300)}`] : []),
    `  exit: ${o.result.code}${o.result.signal ? ` (${o.result.signal})` : ''}`,
    `  stdout: ${clip(JSON.stringify(o.result.stdout), 300)}`,
    `  stderr: ${clip(JSON.stringify(o.result.stderr), 600)}`,
  ].join('\n');
}
