// @ts-check
// A probe, not the product: what a two-line loader in front of the bundle would give — module.enableCompileCache()
// first, then the bundle (CommonJS) through require, so V8's code cache covers it. Env: BENCH_CC_DIR, BENCH_BUNDLE.
import module, { createRequire } from 'node:module';

module.enableCompileCache(process.env.BENCH_CC_DIR);
createRequire(import.meta.url)(process.env.BENCH_BUNDLE ?? '');
