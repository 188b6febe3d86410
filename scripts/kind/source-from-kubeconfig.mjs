#!/usr/bin/env node
// Writes the resource's source fields for a cluster (the test suites' KDR_TEST_SOURCE, see docs/cluster.md) from a
// kubeconfig, e.g. the one `kind get kubeconfig` prints:
//
//   node scripts/kind/source-from-kubeconfig.mjs KUBECONFIG OUT [--context NAME]
//
// OUT gets {"cluster_url", "cluster_ca", "admin_cert", "admin_key"} (or "token" instead of cert and key), each
// credential base64 of its PEM on one line, as a user pastes them into a pipeline; the file is created 0600. Embedded
// (*-data) and referenced (file path) certificates and keys are both read. Nothing secret is printed: one line on
// stderr says what was written. Bad input exits 2 with one `error: ...` line.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load } from 'js-yaml';

class InputError extends Error {}

function parseArgs(argv) {
  const positional = [];
  let context;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--context') {
      context = argv[++i];
      if (!context) throw new InputError('--context needs a name');
    } else positional.push(argv[i]);
  }
  if (positional.length !== 2)
    throw new InputError('usage: source-from-kubeconfig.mjs KUBECONFIG OUT [--context NAME]');
  return { kubeconfigPath: positional[0], outPath: positional[1], context };
}

const named = (list, name, what) => {
  const entry = (list ?? []).find((e) => e?.name === name);
  if (!entry) throw new InputError(`kubeconfig: no ${what} named ${JSON.stringify(name)}`);
  return entry;
};

/**
 * base64 of the PEM on one line, from `<field>-data` (base64 already) or `<field>` (a file, relative to the
 * kubeconfig).
 */
function pemBase64(holder, field, baseDir) {
  const data = holder[`${field}-data`];
  const pem =
    data !== undefined
      ? Buffer.from(String(data), 'base64').toString('utf8')
      : holder[field] !== undefined
        ? readFileSync(resolve(baseDir, String(holder[field])), 'utf8')
        : undefined;
  if (pem === undefined) return undefined;
  if (!/^-----BEGIN [A-Z0-9 ]+-----/.test(pem.trimStart())) throw new InputError(`kubeconfig: ${field} is not PEM`);
  return Buffer.from(pem).toString('base64');
}

export function sourceFromKubeconfig(text, { context, baseDir = '.' } = {}) {
  const config = load(text);
  if (!config || typeof config !== 'object') throw new InputError('kubeconfig: not a YAML mapping');
  const contextName = context ?? config['current-context'];
  if (!contextName) throw new InputError('kubeconfig: no current-context (give --context)');
  const ctx = named(config.contexts, contextName, 'context').context ?? {};
  const cluster = named(config.clusters, ctx.cluster, 'cluster').cluster ?? {};
  const user = named(config.users, ctx.user, 'user').user ?? {};
  if (typeof cluster.server !== 'string') throw new InputError(`kubeconfig: cluster ${ctx.cluster} has no server`);
  const source = { cluster_url: cluster.server };
  const ca = pemBase64(cluster, 'certificate-authority', baseDir);
  if (ca !== undefined) source.cluster_ca = ca;
  const cert = pemBase64(user, 'client-certificate', baseDir);
  const key = pemBase64(user, 'client-key', baseDir);
  if (cert !== undefined && key !== undefined) Object.assign(source, { admin_cert: cert, admin_key: key });
  else if (typeof user.token === 'string' && user.token) source.token = user.token;
  else throw new InputError(`kubeconfig: user ${ctx.user} has neither a client certificate and key nor a token`);
  return source;
}

function main() {
  try {
    const { kubeconfigPath, outPath, context } = parseArgs(process.argv.slice(2));
    let text;
    try {
      text = readFileSync(kubeconfigPath, 'utf8');
    } catch (err) {
      throw new InputError(`cannot read ${kubeconfigPath}: ${err.code ?? err.message}`);
    }
    const source = sourceFromKubeconfig(text, { context, baseDir: dirname(resolve(kubeconfigPath)) });
    writeFileSync(outPath, JSON.stringify(source, null, 2) + '\n', { mode: 0o600 });
    const auth = source.token !== undefined ? 'a bearer token' : 'a client certificate and key';
    process.stderr.write(
      `wrote ${outPath}: ${source.cluster_url}, ${source.cluster_ca ? 'its CA' : 'system CAs'}, ${auth}\n`,
    );
  } catch (err) {
    process.stderr.write(`error: ${err instanceof InputError ? err.message : (err?.message ?? err)}\n`);
    process.exitCode = err instanceof InputError ? 2 : 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
