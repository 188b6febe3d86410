// Writes the V8 code cache of each script (DIR/lib/<script>.v8-cache, read by the launcher scripts/bundle/launcher.cjs)
// by running the script once with KDR_WRITE_CODE_CACHE=1: the cache then holds every function that run compiled.
// The runs talk to a stand-in API server on 127.0.0.1 (plain HTTP, allowed for loopback) that lists no releases and
// refuses everything else (403), so each script goes through its request parsing, planning, rendering, credentials,
// transport and error paths, and ends within a second. Nothing leaves the machine; the credentials are made up.
// With NODE_COMPILE_CACHE set, Node's compile cache is filled by the same runs, and each side module is loaded once
// into it too (they have no V8 code cache of their own: only a rare path loads them).
//
//   node scripts/bundle/fill-code-cache.mjs DIR     (the Dockerfile: DIR=/opt/resource; the bench: its copy of assets/)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const dir = resolve(process.argv[2] ?? '');
const server = createServer((req, res) => {
  req.resume();
  const list = req.method === 'GET' && /\/secrets\?/.test(req.url ?? '');
  // As the API server: a list asked for as metadata (check's records) comes as a PartialObjectMetadataList.
  const metadata = /as=PartialObjectMetadataList/.test(req.headers.accept ?? '');
  res.writeHead(list ? 200 : 403, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify(
      list
        ? metadata
          ? {
              kind: 'PartialObjectMetadataList',
              apiVersion: 'meta.k8s.io/v1',
              metadata: { resourceVersion: '1' },
              items: [],
            }
          : { kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: '1' }, items: [] }
        : { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'fill run' },
    ),
  );
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const source = {
  cluster_url: `http://127.0.0.1:${server.address().port}`,
  token: 'code-cache-fill-not-a-token',
  namespace: 'fill',
  app: 'fill',
};
const env = {
  PATH: process.env.PATH,
  ...(process.env.NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE } : {}),
};
const version = { app: 'fill', namespace: 'fill', revision: '1', image: '' };
const runs = {
  check: { source },
  in: { source, version },
  out: { source, params: { image_ref: 'registry.invalid/fill:1', host: 'fill.invalid' } },
};

function run(script, request, workDir) {
  return new Promise((done, fail) => {
    const child = spawn(join(dir, script), script === 'check' ? [] : [workDir], {
      env: { ...env, KDR_WRITE_CODE_CACHE: '1' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stderr });
    });
    child.stdin.end(JSON.stringify(request));
  });
}

let failed = false;
try {
  for (const [script, request] of Object.entries(runs)) {
    const workDir = mkdtempSync(join(tmpdir(), `kdr-fill-${script}-`));
    const { code, stderr } = await run(script, request, workDir);
    rmSync(workDir, { recursive: true, force: true });
    const cache = join(dir, 'lib', `${script}.v8-cache`);
    // check lists nothing and succeeds; in and out are refused (403): exit 3 or 4. Anything else is a broken script.
    if (![0, 3, 4].includes(code) || !existsSync(cache)) {
      process.stderr.write(
        `fill-code-cache: ${script} exited ${code}, cache ${existsSync(cache) ? 'written' : 'missing'}\n`,
      );
      process.stderr.write(stderr);
      failed = true;
    }
  }
  if (env.NODE_COMPILE_CACHE) {
    const sideModules = readdirSync(join(dir, 'lib')).filter(
      (f) => f.endsWith('.cjs') && !Object.keys(runs).includes(f.slice(0, -4)),
    );
    for (const file of sideModules) {
      const child = spawn(process.execPath, ['-e', 'require(process.argv[1])', join(dir, 'lib', file)], { env });
      const code = await new Promise((done) => child.on('close', done));
      if (code !== 0) {
        process.stderr.write(`fill-code-cache: loading the side module ${file} exited ${code}\n`);
        failed = true;
      }
    }
  }
} finally {
  server.close();
}
process.exitCode = failed ? 1 : 0;
