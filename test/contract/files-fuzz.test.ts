// The second input channel (issue 17): the files a put reads from its sources dir, fuzzed through the compiled `out`.
// fast-check generates extra manifests (YAML with anchors, aliases, merge keys, tags, odd scalars, BOMs, CRLF,
// `---`/`...`, byte-level mutations), registry-image dirs and namespace files (see test/support/fuzz-files.ts).
//
// Every case runs against its own worker's connection-counting "cluster" (test/support/fuzz-harness.ts), so each
// connection belongs to exactly one case. A case refused as a bad request must exit 2 with one `error:` line naming
// its file (or field), and nothing may reach the cluster; a valid case must pass every check and then try the cluster:
// its certificate is not trusted, so it ends in exit 3 after a counted connection. Generated-with-faults cases may end
// either way, but only in one of those two. Never a signal, a stack trace, an internal error, or stdout output; and
// each run's peak RSS (measured inside the script, test/support/rss-probe.mjs) stays under RSS_LIMIT_MIB.
//
// Replay: FUZZ_SEED=<seed from the test name> npx vitest run test/contract/files-fuzz.test.ts; a failure names its
// case (`f-17`); FUZZ_CASE=17 runs only that one. FUZZ_CONCURRENCY sets the scripts run at once (default 4).
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { countingServer, type CountingServer } from '../support/fuzz-harness.js';
import { fileCategories, type FileCase } from '../support/fuzz-files.js';
import { makeTestPki, type TestPki } from '../support/pki.js';
import { lines, repoRoot, runScript, type ScriptResult } from '../support/run-script.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_127);
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 4);
/** A file to append one line per finished case to (id, exit, duration), to watch a slow run. */
const TRACE = process.env.FUZZ_TRACE;
const ONLY = process.env.FUZZ_CASE === undefined ? undefined : Number(process.env.FUZZ_CASE);
/**
 * Peak RSS allowed for one run of `out`: a run that reads nothing peaks near 80 MiB, the densest manifests allowed
 * near 250.
 */
const RSS_LIMIT_MIB = 320;
const TOKEN = 'files-fuzz-token-5b2d0e7c';

const probe = pathToFileURL(join(repoRoot, 'test', 'support', 'rss-probe.mjs')).href;
const realManifests = [
  readFileSync(join(repoRoot, 'test', 'fixtures', 'postgres.yml'), 'utf8'),
  'x-env: &env\n  - {name: MODE, value: staging}\n---\n' +
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\n' +
    'spec:\n  template:\n    spec:\n      containers:\n' +
    '        - name: w\n          image: busybox\n          env: *env\n',
  'defaults: &defaults {LOG: info, PORT: "8080"}\n' +
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata:\n  <<: *defaults\n  LOG: debug\n',
];

let pki: TestPki;
let root: string;
let sources: string;
let rssDir: string;

beforeAll(() => {
  pki = makeTestPki();
  root = mkdtempSync(join(tmpdir(), 'kdr-files-fuzz-'));
  sources = join(root, 'sources');
  rssDir = join(root, 'rss');
  mkdirSync(join(sources, 'gen'), { recursive: true });
  mkdirSync(rssDir);
  writeFileSync(join(root, 'outside.yml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: outside}\n');
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

interface Run {
  result: ScriptResult;
  connections: number;
  rssMiB: number | undefined;
}

/** Runs `out` on the sources dir with the request, counting connections to `server` and measuring peak RSS. */
async function runOut(server: CountingServer, id: string, params: Record<string, unknown>): Promise<Run> {
  const request = {
    source: { cluster_url: server.url().replace('@ID@', id), token: TOKEN, app: 'web', namespace: 'fz' },
    params,
  };
  const rssFile = join(rssDir, id);
  const before = server.connections.length;
  const result = await runScript('out', request, {
    dir: sources,
    env: { NODE_OPTIONS: `--import=${probe}`, KDR_RSS_FILE: rssFile },
    timeoutMs: 60_000,
  });
  const rss = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : undefined;
  return { result, connections: server.connections.length - before, rssMiB: rss };
}

function materialize(dir: string, files: FileCase['files']): void {
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    mkdirSync(dirname(path), { recursive: true });
    if (typeof content === 'object' && 'dir' in content) mkdirSync(path, { recursive: true });
    else if (typeof content === 'object' && 'symlink' in content) symlinkSync(content.symlink, path);
    else writeFileSync(path, content);
  }
}

const withDir = (value: unknown, dir: string): unknown =>
  typeof value === 'string'
    ? value.replaceAll('@DIR@', dir)
    : Array.isArray(value)
      ? value.map((v) => withDir(v, dir))
      : value;

/** What the contract promises for one run; `names` is what an exit-2 line must contain. */
function problemsOf(run: Run, expectation: FileCase['expect'], names: string[]): string[] {
  const { result, connections, rssMiB } = run;
  const problems: string[] = [];
  const errLines = lines(result.stderr);
  const last = errLines.at(-1) ?? '';
  if (result.signal) problems.push(`killed by ${result.signal}`);
  if (result.stdout !== '') problems.push('stdout is not empty');
  if (/^\s+at /m.test(result.stderr)) problems.push('stack trace on stderr');
  if (/internal error/.test(result.stderr)) problems.push('internal error');
  // The token, and the Secret value of the real manifests the mutations start from (test/fixtures/postgres.yml).
  for (const secret of [TOKEN, 'staging-only-password'])
    if (result.stderr.includes(secret)) problems.push(`secret echoed: ${secret}`);
  if (rssMiB === undefined) problems.push('no RSS measurement');
  else if (rssMiB > RSS_LIMIT_MIB) problems.push(`peak RSS ${rssMiB.toFixed(0)} MiB over ${RSS_LIMIT_MIB} MiB`);
  if (result.code === 2) {
    if (expectation === 'valid') problems.push('a valid input was refused');
    if (errLines.length !== 1) problems.push(`${errLines.length} lines on stderr, expected 1`);
    if (!last.startsWith('error: ')) problems.push('stderr does not start with "error: "');
    if (!names.some((n) => last.includes(n))) problems.push(`the error does not name ${names[0]}`);
    if (connections !== 0) problems.push(`${connections} connections to the cluster for a refused input`);
  } else if (result.code === 3) {
    if (expectation === 'invalid') problems.push('an invalid input was not refused');
    if (connections === 0) problems.push('exit 3 without trying the cluster');
    if (!last.startsWith('error: ')) problems.push('the last stderr line is not "error: …"');
  } else {
    problems.push(
      `exit code ${result.code}, expected ${expectation === 'valid' ? 3 : expectation === 'invalid' ? 2 : '2 or 3'}`,
    );
  }
  return problems;
}

const clip = (text: string, n: number) => (text.length > n ? `${text.slice(0, n)}… (${text.length} chars)` : text);

describe(`fuzzed files in the sources dir through the compiled out (seed ${SEED})`, () => {
  // About a minute on an idle 2-core machine; the bound leaves room for a busy one (each run has its own 60 s bound).
  test(
    `manifests, image dirs and namespace files: refused cleanly or passed on, seed ${SEED}`,
    { timeout: 1_200_000 },
    async () => {
      const categories = fileCategories(realManifests);
      const cases = categories.flatMap((category, i) =>
        fc.sample(category.arb, { seed: SEED + 7919 * (i + 1), numRuns: category.count }),
      );
      if (ONLY === undefined) expect(cases.length).toBeGreaterThanOrEqual(300);
      const indexes = ONLY === undefined ? cases.map((_, i) => i) : [ONLY];

      const servers = await Promise.all(Array.from({ length: CONCURRENCY }, () => countingServer(pki)));
      const outcomes: { id: string; fuzzCase: FileCase; run: Run; problems: string[] }[] = [];
      const started = Date.now();
      try {
        let next = 0;
        await Promise.all(
          servers.map(async (server) => {
            while (next < indexes.length) {
              const index = indexes[next++]!;
              const fuzzCase = cases[index]!;
              const id = `f-${index}`;
              const dir = `gen/${id}`;
              materialize(join(sources, dir), fuzzCase.files);
              const params = Object.fromEntries(Object.entries(fuzzCase.params).map(([k, v]) => [k, withDir(v, dir)]));
              const run = await runOut(server, id, params);
              // A file name is shown as written, or JSON-quoted when it holds odd characters; a field by its name.
              const names = fuzzCase.names.startsWith('params.')
                ? [fuzzCase.names]
                : [`${dir}/${fuzzCase.names}`, JSON.stringify(`${dir}/${fuzzCase.names}`).slice(0, 60)];
              outcomes.push({ id, fuzzCase, run, problems: problemsOf(run, fuzzCase.expect, names) });
              if (TRACE)
                appendFileSync(
                  TRACE,
                  `${id} exit ${run.result.code} ${run.result.durationMs} ms ` +
                    `${fuzzCase.category} (${fuzzCase.detail ?? ''})\n`,
                );
            }
          }),
        );
      } finally {
        await Promise.all(servers.map((s) => s.close()));
      }
      const elapsed = ((Date.now() - started) / 1000).toFixed(1);

      const byCategory = new Map<string, { n: number; codes: Map<string, number>; rss: number }>();
      for (const { fuzzCase, run } of outcomes) {
        const entry = byCategory.get(fuzzCase.category) ?? { n: 0, codes: new Map(), rss: 0 };
        entry.n++;
        const code = String(run.result.code);
        entry.codes.set(code, (entry.codes.get(code) ?? 0) + 1);
        entry.rss = Math.max(entry.rss, run.rssMiB ?? 0);
        byCategory.set(fuzzCase.category, entry);
      }
      const maxRss = Math.max(...outcomes.map((o) => o.run.rssMiB ?? 0));
      console.log(
        [
          `files: ${outcomes.length} cases in ${elapsed}s (seed ${SEED}, ${CONCURRENCY} at a time), ` +
            `peak RSS of one run ${maxRss.toFixed(0)} MiB`,
          ...[...byCategory].map(
            ([name, { n, codes, rss }]) =>
              `  ${String(n).padStart(3)}  ${name}  ` +
              `(${[...codes].map(([c, k]) => `exit ${c}: ${k}`).join(', ')}; peak ${rss.toFixed(0)} MiB)`,
          ),
        ].join('\n'),
      );

      const failures = outcomes.filter((o) => o.problems.length > 0);
      expect(
        failures.map(({ id, fuzzCase, run, problems }) =>
          [
            `[${id}] ${fuzzCase.category}${fuzzCase.detail ? ` (${fuzzCase.detail})` : ''}, ` +
              `expected ${fuzzCase.expect}: ${problems.join('; ')}`,
            `  files: ${clip(
              JSON.stringify(
                Object.fromEntries(
                  Object.entries(fuzzCase.files).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('latin1') : v]),
                ),
              ),
              400,
            )}`,
            `  exit: ${run.result.code}, connections: ${run.connections}, rss: ${run.rssMiB?.toFixed(0)} MiB`,
            `  stderr: ${clip(JSON.stringify(run.result.stderr), 500)}`,
          ].join('\n'),
        ),
        `${failures.length} of ${outcomes.length} cases failed (seed ${SEED})`,
      ).toEqual([]);
      // Both outcomes occur: the generators do make valid and invalid inputs, so the checks above are not vacuous.
      if (ONLY === undefined) {
        expect(outcomes.filter((o) => o.run.result.code === 3).length).toBeGreaterThanOrEqual(40);
        expect(outcomes.filter((o) => o.run.result.code === 2).length).toBeGreaterThanOrEqual(100);
      }
    },
  );
});

// Probes of issue 17 that must stay bad requests with bounded memory: large, hostile or special files.
describe.concurrent('hostile files: exit 2, one line, no connection, bounded memory', () => {
  const MiB = 1024 * 1024;
  const random = (bytes: number) => {
    // Printable and not, newlines included: a registry-image dir someone filled from /dev/urandom.
    let seed = 17;
    const buffer = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i++) buffer[i] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 16;
    return buffer;
  };
  const image = (name: string, files: Record<string, string | Buffer>) => {
    for (const [file, content] of Object.entries(files)) materialize(join(sources, 'probe', name), { [file]: content });
    return { image: `probe/${name}` };
  };
  const cases: [string, () => Record<string, unknown>, string][] = [
    [
      'a garbage digest',
      () => image('garbage-digest', { repository: 'registry.example.com/web\n', digest: 'sha256:not-a-digest\n' }),
      'error: params.image: probe/garbage-digest does not hold a valid image reference',
    ],
    [
      'a 30 MB random repository',
      () => image('random-repo', { repository: random(30 * MiB), tag: '1\n' }),
      'error: params.image: probe/random-repo/repository is larger than 4096 bytes',
    ],
    [
      'a repository that links outside the sources dir',
      () => {
        const params = image('link-repo', { tag: '1\n' });
        symlinkSync(join(root, 'outside.yml'), join(sources, 'probe', 'link-repo', 'repository'));
        return params;
      },
      'error: params.image: probe/link-repo/repository leads outside the sources directory',
    ],
    [
      'a FIFO as the repository',
      () => {
        const params = image('fifo-repo', { tag: '1\n' });
        execFileSync('mkfifo', [join(sources, 'probe', 'fifo-repo', 'repository')]);
        return params;
      },
      'error: params.image: probe/fifo-repo/repository is not a file',
    ],
    [
      'a 50 MB namespace_file',
      () => {
        materialize(join(sources, 'probe'), { 'ns-50mb': Buffer.alloc(50 * MiB, 'a') });
        return { image_ref: 'app:1', namespace_file: 'probe/ns-50mb' };
      },
      'error: params.namespace_file: probe/ns-50mb is larger than 256 bytes',
    ],
    [
      'a FIFO as the namespace_file',
      () => {
        mkdirSync(join(sources, 'probe'), { recursive: true });
        execFileSync('mkfifo', [join(sources, 'probe', 'ns-fifo')]);
        return { image_ref: 'app:1', namespace_file: 'probe/ns-fifo' };
      },
      'error: params.namespace_file: probe/ns-fifo is not a file',
    ],
    [
      'a namespace_file that links outside',
      () => {
        mkdirSync(join(sources, 'probe'), { recursive: true });
        symlinkSync(join(root, 'outside.yml'), join(sources, 'probe', 'ns-link'));
        return { image_ref: 'app:1', namespace_file: 'probe/ns-link' };
      },
      'error: params.namespace_file: probe/ns-link leads outside the sources directory',
    ],
    [
      'a manifest that links outside',
      () => {
        mkdirSync(join(sources, 'probe'), { recursive: true });
        symlinkSync(join(root, 'outside.yml'), join(sources, 'probe', 'm-link.yml'));
        return { image_ref: 'app:1', manifests: ['probe/m-link.yml'] };
      },
      'error: params.manifests[0]: probe/m-link.yml leads outside the sources directory',
    ],
    [
      'a FIFO among the manifests',
      () => {
        mkdirSync(join(sources, 'probe', 'fifo-dir'), { recursive: true });
        execFileSync('mkfifo', [join(sources, 'probe', 'fifo-dir', 'pipe.yml')]);
        return { image_ref: 'app:1', manifests: ['probe/fifo-dir/*.yml'] };
      },
      'error: params.manifests[0]: probe/fifo-dir/pipe.yml is not a file',
    ],
    [
      'flow nesting 100,000 levels deep',
      () => {
        materialize(join(sources, 'probe'), {
          'deep-flow.yml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: ${'['.repeat(100_000)}\n`,
        });
        return { image_ref: 'app:1', manifests: ['probe/deep-flow.yml'] };
      },
      'error: params.manifests: probe/deep-flow.yml line 4: nested more than 100 levels deep',
    ],
    [
      'block nesting 1000 levels deep',
      () => {
        materialize(join(sources, 'probe'), {
          'deep-block.yml': Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}k:\n`).join(''),
        });
        return { image_ref: 'app:1', manifests: ['probe/deep-block.yml'] };
      },
      'error: params.manifests: probe/deep-block.yml line 100: nested more than 100 levels deep',
    ],
    [
      'the alias chain of the issue (9 anchors of 9 aliases)',
      () => {
        let text = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a0: &a0 ["lol"]\n';
        for (let i = 1; i < 10; i++)
          text += `  a${i}: &a${i} [${Array(9)
            .fill(`*a${i - 1}`)
            .join(', ')}]\n`;
        materialize(join(sources, 'probe'), { 'lol.yml': text });
        return { image_ref: 'app:1', manifests: ['probe/lol.yml'] };
      },
      'error: params.manifests: probe/lol.yml line 11: the document is larger than 3 MiB with its aliases expanded',
    ],
    [
      '4 MiB of one-letter items in one list (the densest file allowed)',
      () => {
        const head = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dense}\ndata: [';
        materialize(join(sources, 'probe'), {
          'dense.yml': `${head}${'a,'.repeat((4 * MiB - head.length - 2) / 2)}a]`,
        });
        return { image_ref: 'app:1', manifests: ['probe/dense.yml'] };
      },
      'error: params.manifests: probe/dense.yml line 1: the document holds more than 300000 nodes ' +
        '(counting the commas, colons, dashes, brackets and lines that start one)',
    ],
    [
      'manifests over 16 MiB together',
      () => {
        const big = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\n${'#'.repeat(3 * MiB)}\n`;
        for (let i = 0; i < 6; i++) materialize(join(sources, 'probe', 'many'), { [`${i}.yml`]: big });
        return { image_ref: 'app:1', manifests: ['probe/many/*.yml'] };
      },
      'error: params.manifests[0]: probe/many/5.yml: the manifests files together are larger than 16 MiB',
    ],
  ];

  test(
    'the densest manifests allowed (2 documents, each just under 300000 nodes) ' + 'are read with bounded memory',
    async ({ expect }) => {
      const doc = (i: number) =>
        `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dense-${i}}\ndata: [${'a,'.repeat(299_980)}a]\n`;
      materialize(join(sources, 'probe'), { 'dense-ok.yml': [0, 1].map(doc).join('---\n') });
      const server = await countingServer(pki);
      try {
        const run = await runOut(server, 'probe-dense-ok', { image_ref: 'app:1', manifests: ['probe/dense-ok.yml'] });
        // Read and accepted: the put goes on to the (untrusted) cluster.
        expect(run.result.code, run.result.stderr).toBe(3);
        expect(run.connections).toBeGreaterThan(0);
        expect(run.rssMiB!).toBeLessThan(RSS_LIMIT_MIB);
        console.log(`probe "the densest manifests allowed": peak RSS ${run.rssMiB!.toFixed(0)} MiB`);
      } finally {
        await server.close();
      }
    },
  );

  test.for(cases)('%s', async ([name, setup, message], { expect }) => {
    const server = await countingServer(pki);
    try {
      const run = await runOut(server, `probe-${name.replace(/\W+/g, '-')}`, setup());
      expect(lines(run.result.stderr)).toEqual([message]);
      expect(run.result.code).toBe(2);
      expect(run.result.stdout).toBe('');
      expect(run.connections).toBe(0);
      expect(run.rssMiB).toBeDefined();
      expect(run.rssMiB!).toBeLessThan(RSS_LIMIT_MIB);
      console.log(`probe "${name}": peak RSS ${run.rssMiB!.toFixed(0)} MiB`);
    } finally {
      await server.close();
    }
  });
});
