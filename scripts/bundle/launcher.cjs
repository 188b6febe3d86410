#!/usr/bin/env node
// kubernetes-deploy-resource: check, in and out are this file; each runs its bundle, lib/<its own name>.cjs.
// With lib/<name>.v8-cache beside the bundle (written at image build: scripts/bundle/fill-code-cache.mjs), the
// bundle is compiled from that V8 code cache, which holds every function the fill run compiled; Node's own compile
// cache (NODE_COMPILE_CACHE) holds only what is compiled at load, so each start compiled the rest again (zod's schema
// builders, the client library's KubeConfig, the transport). A cache V8 does not accept (another Node, another
// bundle) is ignored: the bundle is compiled from its source, as without one.
//   KDR_WRITE_CODE_CACHE=1   write lib/<name>.v8-cache when the script exits (the fill run)
//   KDR_CODE_CACHE_REPORT=1  one line on stderr: whether the cache was used
'use strict';
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { basename, join } = require('node:path');

const name = basename(__filename);
const bundle = join(__dirname, 'lib', `${name}.cjs`);
const cacheFile = join(__dirname, 'lib', `${name}.v8-cache`);
const write = process.env.KDR_WRITE_CODE_CACHE === '1';
const report = process.env.KDR_CODE_CACHE_REPORT === '1';

let cachedData;
if (!write) {
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache: Node's loader below
  }
}
if (cachedData === undefined && !write) {
  if (report) process.stderr.write(`code cache: none at ${cacheFile}\n`);
  require(bundle);
} else {
  const { Script, constants } = require('node:vm');
  const { createRequire } = require('node:module');
  // Node's CommonJS wrapper: the bundle sees require, module, __filename and __dirname as when required.
  const source = `(function (exports, require, module, __filename, __dirname) { ${readFileSync(bundle, 'utf8')}\n})`;
  const script = new Script(source, {
    filename: bundle,
    // import() as in a module Node loaded (the bundles have none today: esbuild turns them into require()).
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    ...(cachedData ? { cachedData } : {}),
  });
  if (report && cachedData) {
    process.stderr.write(`code cache: ${script.cachedDataRejected ? 'rejected' : 'used'} ${cacheFile}\n`);
  }
  if (write) {
    process.once('exit', () => {
      const partial = `${cacheFile}.${process.pid}`;
      writeFileSync(partial, script.createCachedData());
      renameSync(partial, cacheFile);
    });
  }
  const loaded = { exports: {} };
  script.runInThisContext()(loaded.exports, createRequire(bundle), loaded, bundle, join(__dirname, 'lib'));
}
