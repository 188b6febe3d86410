// Real ServiceAccount tokens of the test cluster, and a ServiceAccount mount laid out as the kubelet writes it
// (its AtomicWriter: the files live in a timestamped directory, `..data` points at it, and each name is a symlink
// through `..data`; an update writes a new directory and swaps `..data`).
import { mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { kubectl, repoRoot } from './cluster.js';
import { plantSecret } from './secret-scan.js';

/**
 * Creates a ServiceAccount and returns a token for it from the TokenRequest API (`kubectl create token`, as a kubelet's
 * projected token: no token Secrets are made for ServiceAccounts since Kubernetes 1.24). Planted for the scan.
 */
export async function serviceAccountToken(namespace: string, name: string): Promise<string> {
  await kubectl(['create', 'serviceaccount', name], { namespace });
  const { stdout } = await kubectl(['create', 'token', name, '--duration=2h'], { namespace });
  const token = stdout.trim();
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) throw new Error(`kubectl create token ${name}: not a JWT`);
  plantSecret(token);
  return token;
}

/**
 * Binds a ClusterRole to the ServiceAccount in its namespace (`cluster-admin`: the aggregated `admin` is empty here,
 * no aggregation controller runs).
 */
export async function bindRole(namespace: string, serviceAccount: string, clusterRole: string): Promise<void> {
  await kubectl(
    [
      'create',
      'rolebinding',
      `${serviceAccount}-${clusterRole}`,
      `--clusterrole=${clusterRole}`,
      `--serviceaccount=${namespace}:${serviceAccount}`,
    ],
    { namespace },
  );
}

export interface Mount {
  root: string;
  /** Writes new contents the way the kubelet updates a mount (a projected token rotates this way). */
  update(files: { token: string; 'ca.crt': string; namespace: string }): void;
}

export function serviceAccountMount(files: { token: string; 'ca.crt': string; namespace: string }): Mount {
  const root = mkdtempSync(join(tmpdir(), 'kdr-sa-mount-'));
  let generation = 0;
  const update = (next: typeof files) => {
    const dir =
      `..${new Date().toISOString().replace(/[-:T]/g, '_').replace(/\..*$/, '')}` + `.${process.pid}${generation++}`;
    mkdirSync(join(root, dir), { mode: 0o755 });
    for (const [name, content] of Object.entries(next)) writeFileSync(join(root, dir, name), content, { mode: 0o644 });
    // Swap ..data atomically: a new symlink renamed over the old one.
    symlinkSync(dir, join(root, '..data_tmp'));
    renameSync(join(root, '..data_tmp'), join(root, '..data'));
    for (const name of Object.keys(next)) {
      try {
        symlinkSync(join('..data', name), join(root, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  };
  update(files);
  return { root, update };
}

/** The least-privilege Role of the README (section "RBAC: least privilege"), for a namespace. */
export function readmeRole(namespace: string): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## RBAC: least privilege'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no Role block under "RBAC: least privilege"');
  const role = load(block) as { kind: string; metadata: { namespace: string } };
  if (role.kind !== 'Role') throw new Error(`README.md's RBAC block is a ${role.kind}, not a Role`);
  role.metadata.namespace = namespace;
  return JSON.stringify(role);
}
