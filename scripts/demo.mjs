// The main job, end to end on the local test cluster: deploy a demo app through the compiled `out` script (as
// Concourse's put would), then run the implicit `in` and a `check`, printing what Concourse would show.
// Usage: npm run demo  (brings the cluster up and builds the scripts first)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const source = {
  ...JSON.parse(readFileSync(join(root, '.cluster', 'source.json'), 'utf8')),
  namespace: 'demo',
  app: 'hello',
};
const env = {
  PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
  BUILD_NAME: '1',
  BUILD_JOB_NAME: 'deploy',
  BUILD_PIPELINE_NAME: 'demo',
};

function step(title, script, request, dir) {
  process.stderr.write(`\n=== ${title}: ${script}${dir ? ` ${dir}` : ''}\n`);
  const result = spawnSync(join(root, 'assets', script), dir ? [dir] : [], {
    input: JSON.stringify(request),
    env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  process.stderr.write(`--- stdout (exit ${result.status}):\n${result.stdout}`);
  if (result.status !== 0) process.exit(result.status ?? 1);
  return JSON.parse(result.stdout.toString());
}

// What a registry-image get would have written for the app's image.
const sources = mkdtempSync(join(tmpdir(), 'kdr-demo-'));
mkdirSync(join(sources, 'hello-image'));
writeFileSync(join(sources, 'hello-image', 'repository'), 'registry.local/demo/hello\n');
writeFileSync(join(sources, 'hello-image', 'tag'), '1.0.0\n');
writeFileSync(join(sources, 'hello-image', 'digest'), `sha256:${'d'.repeat(64)}\n`);

const put = step(
  'put (deploy)',
  'out',
  {
    source,
    params: {
      image: 'hello-image',
      create_namespace: true,
      replicas: 2,
      host: 'hello.demo.local',
      ingress_class: 'traefik',
      env: { GREETING: 'hello from the demo' },
    },
  },
  sources,
);
const dest = join(sources, 'hello-release');
step('implicit get after the put', 'in', { source, version: put.version }, dest);
process.stderr.write(`\n=== ${join(dest, 'manifests.yml')}\n${readFileSync(join(dest, 'manifests.yml'), 'utf8')}`);
step('check', 'check', { source, version: put.version });
// The kubectl built with the cluster, of its version (.cluster/env names it).
const kubectl = /^KUBECTL=(.*)$/m.exec(readFileSync(join(root, '.cluster', 'env'), 'utf8'))?.[1] ?? 'kubectl';
process.stderr.write(
  `\nThe release is live: ${kubectl} --kubeconfig .cluster/kubeconfig -n demo get deploy,svc,ingress,pods\n`,
);
