// Builders for put/get requests against the test cluster, and a sources dir laid out as Concourse would.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSource } from './cluster.js';

export function clusterSource(fields: Record<string, unknown> = {}): Record<string, unknown> {
  const { cluster_url, cluster_ca, admin_cert, admin_key } = readSource() as unknown as Record<string, string>;
  return { cluster_url, cluster_ca, admin_cert, admin_key, app: 'web', ...fields };
}

export const fakeDigest = (seed: string) =>
  'sha256:' + Buffer.from(seed.padEnd(32, '.')).toString('hex').slice(0, 64).padEnd(64, '0');

/** The image as a registry-image get without a digest (tag only). */
export const tagOnly = (image: { repository: string; tag: string }) => ({
  repository: image.repository,
  tag: image.tag,
});

/** A sources dir with a registry-image get dir `image/` and any extra files. */
export function sourcesDir(
  image: { repository: string; tag?: string; digest?: string },
  files: Record<string, string> = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'kdr-sources-'));
  mkdirSync(join(dir, 'image'));
  writeFileSync(join(dir, 'image', 'repository'), image.repository + '\n');
  if (image.tag) writeFileSync(join(dir, 'image', 'tag'), image.tag + '\n');
  if (image.digest) writeFileSync(join(dir, 'image', 'digest'), image.digest + '\n');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

export const emptyDir = () => mkdtempSync(join(tmpdir(), 'kdr-dest-'));
