// test/support/images.ts: which images the suites deploy, by kubelet; and that the suites take them from there.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const fresh = async () => {
  vi.resetModules();
  return import('../support/images.js');
};
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('images by kubelet', () => {
  test('the stand-in (default) gets its naming convention and well-formed, distinct digests per tag', async () => {
    vi.stubEnv('KDR_TEST_KUBELET', '');
    const images = await fresh();
    expect(images.kubeletKind()).toBe('standin');
    expect(images.unpullableImage().ref).toMatch(/unpullable/);
    expect(images.crashingImage().ref).toMatch(/crashing/);
    expect(images.hangingImage().params).toEqual({ image_ref: expect.stringMatching(/hanging/) });
    const digests = images.readyTags.map((tag) => images.readyImage(tag).digest);
    for (const d of digests) expect(d).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(new Set(digests).size).toBe(digests.length);
    const ready = images.readyImage('1.2');
    expect(ready.digestRef).toBe(`${ready.repository}@${ready.digest}`);
    expect(ready.tagRef).toBe(`${ready.repository}:1.2`);
    for (const name of ['unpullable', 'crashing', 'hanging', 'fails']) expect(ready.repository).not.toContain(name);
    // Job images: the stand-in completes any other name and fails a `fails` one (docs/cluster.md); a tag per jobTag.
    for (const tag of images.jobTags) {
      const completing = images.completingJobImage(tag);
      expect(completing.ref).toMatch(new RegExp(`:${tag}$`));
      expect(completing.container).toEqual({ image: completing.ref });
      for (const name of ['unpullable', 'crashing', 'hanging', 'fails']) expect(completing.ref).not.toContain(name);
      expect(images.failingJobImage(tag).ref).toMatch(new RegExp(`^[^:]*fails[^:]*:${tag}$`));
    }
    expect(images.completingJobImage().ref).toBe(images.completingJobImage('1').ref);
    expect(images.completingJobImage('2').ref).not.toBe(images.completingJobImage('3').ref);
  });

  test('a real kubelet gets the pushed images from KDR_TEST_IMAGES, a probe on a closed port for hanging', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kdr-images-')), 'images.json');
    writeFileSync(
      file,
      JSON.stringify({
        web: { repository: 'localhost:5001/kdr/web', digests: { '1': 'sha256:' + '1'.repeat(64) } },
        crashing: 'localhost:5001/kdr/crashing:1',
        hanging: 'localhost:5001/kdr/hanging:1',
        unpullable: 'localhost:5001/kdr/does-not-exist:1',
        completing: 'localhost:5001/kdr/completes',
        failing: 'localhost:5001/kdr/fails',
      }),
    );
    vi.stubEnv('KDR_TEST_KUBELET', 'real');
    vi.stubEnv('KDR_TEST_IMAGES', file);
    const images = await fresh();
    expect(images.readyImage('1').digestRef).toBe('localhost:5001/kdr/web@sha256:' + '1'.repeat(64));
    expect(() => images.readyImage('2')).toThrow(/no digest for tag 2/);
    expect(images.unpullableImage().params).toEqual({ image_ref: 'localhost:5001/kdr/does-not-exist:1' });
    expect(images.crashingImage().container).toEqual({ image: 'localhost:5001/kdr/crashing:1' });
    const hanging = images.hangingImage();
    expect(hanging.params).toEqual({ image_ref: 'localhost:5001/kdr/hanging:1', readiness_path: '/ready' });
    expect(hanging.container.readinessProbe).toMatchObject({ tcpSocket: { port: 8080 } });
    const completes = 'localhost:5001/kdr/completes:1';
    expect(images.completingJobImage()).toEqual({ ref: completes, container: { image: completes } });
    expect(images.completingJobImage('3').ref).toBe('localhost:5001/kdr/completes:3');
    expect(images.failingJobImage('2').container).toEqual({ image: 'localhost:5001/kdr/fails:2' });
  });

  test('real without KDR_TEST_IMAGES, and an unknown kubelet, fail loudly', async () => {
    vi.stubEnv('KDR_TEST_KUBELET', 'real');
    vi.stubEnv('KDR_TEST_IMAGES', '');
    const images = await fresh();
    expect(() => images.readyImage('1')).toThrow(/needs KDR_TEST_IMAGES/);
    vi.stubEnv('KDR_TEST_KUBELET', 'kind');
    expect(() => images.kubeletKind()).toThrow('KDR_TEST_KUBELET: kind (expected standin or real)');
  });
});

describe('the suites that run Pods take their images from test/support/images.ts', () => {
  const dirs = ['integration', 'disruptive', 'contract'].map((d) => join(root, 'test', d));
  const files = dirs.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(dir, f)),
  );
  // An image reference literal: a name with a tag, in quotes.
  const literal = /['"`]([a-z0-9.-]+(?:\/[a-z0-9._-]+)*:[A-Za-z0-9._-]+)['"`]/g;

  test.each(files.map((f) => [f.slice(root.length + 1), f]))('%s names no stand-in or made-up image', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    const refs = [...text.matchAll(literal)]
      .map((m) => m[1]!)
      .filter((ref) => /unpullable|crashing|hanging|registry\.(local|example\.com)\/|^nginx:/.test(ref));
    expect(refs).toEqual([]);
  });
});

describe('the fixtures the suites run as Pods take their images by placeholder', () => {
  test.each(['migrate-job.yml', 'postgres-statefulset.yml'])('test/fixtures/%s names no image itself', (name) => {
    const images = readFileSync(join(root, 'test', 'fixtures', name), 'utf8').match(/^\s*(?:- )?image:.*$/gm) ?? [];
    expect(images.length).toBeGreaterThan(0);
    for (const line of images) expect(line).toMatch(/image: \$\{[A-Z_]+\}$/);
  });

  test('each placeholder replaced; one without a value, or a value without a placeholder, is an error', async () => {
    const { fixtureWithImages, migrateJobYaml, postgresStatefulSetYaml } = await import('../support/workloads.js');
    expect(migrateJobYaml('example.test/job:7')).toMatch(/^ {10}image: example\.test\/job:7$/m);
    expect(postgresStatefulSetYaml('example.test/db:7')).toMatch(/^ {10}image: example\.test\/db:7$/m);
    expect(migrateJobYaml('example.test/job:7')).not.toContain('${');
    expect(() => fixtureWithImages('migrate-job.yml', {})).toThrow(
      'test/fixtures/migrate-job.yml: no value for ${MIGRATE_IMAGE}',
    );
    expect(() => fixtureWithImages('migrate-job.yml', { MIGRATE_IMAGE: 'a:1', OTHER: 'b:1' })).toThrow(
      'no placeholder for OTHER',
    );
  });
});

describe('scripts/kind/test-images.sh', () => {
  const script = readFileSync(join(root, 'scripts', 'kind', 'test-images.sh'), 'utf8');
  const dockerfile = readFileSync(join(root, 'scripts', 'kind', 'test-images', 'Dockerfile'), 'utf8');

  test('builds only targets its Dockerfile has, and writes every image test/support/images.ts reads', () => {
    const targets = new Set([...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]));
    const built = [...script.matchAll(/build_push (\w+) /g)].map((m) => m[1]);
    expect(new Set(built)).toEqual(new Set(['web', 'crashing', 'hanging', 'completes', 'fails']));
    for (const target of built) expect(targets).toContain(target);
    for (const key of ['web', 'crashing', 'hanging', 'unpullable', 'completing', 'failing']) {
      expect(script).toMatch(new RegExp(`^ {4}${key}: `, 'm'));
    }
    expect(script).toContain('jobTags');
  });
});
