// The images tests deploy, chosen by the kubelet that will run them (KDR_TEST_KUBELET):
//
//   standin (default): the local test cluster's kubelet stand-in, which decides what a container "does" from its image
//     name (docs/cluster.md, "Image naming convention"): nothing is pulled, any name that is none of unpullable,
//     crashing (or fails) or hanging runs and becomes ready; in a Job's Pod it exits 0 after a short run, and a
//     `fails` one exits 1.
//   real: a cluster with real kubelets (the kind job, docs/cluster.md "The kind matrix"). The images really exist and
//     really do what the test needs. They are built and pushed to a local registry by scripts/kind/test-images.sh,
//     which writes KDR_TEST_IMAGES (a JSON file: repositories and the digest of every ready tag).
//
// Every test that relies on what a container does takes its image from here, so the same case runs with either kubelet:
// no case is skipped for lack of a kind of kubelet. This file is also read by scripts/kind/test-images.sh (Node strips
// the types), to learn which tags to push: keep it free of imports beyond node: modules.
import { readFileSync } from 'node:fs';

export type KubeletKind = 'standin' | 'real';

export function kubeletKind(): KubeletKind {
  const value = process.env.KDR_TEST_KUBELET || 'standin';
  if (value !== 'standin' && value !== 'real') throw new Error(`KDR_TEST_KUBELET: ${value} (expected standin or real)`);
  return value;
}

/** The tags of the ready image tests deploy: each is pushed with its own digest for a real kubelet. */
export const readyTags = ['1', '2', '3', '9', 'a', 'b', '1.0', '1.1', '1.2', '1.3', '1.0.0'] as const;
export type ReadyTag = (typeof readyTags)[number];

export interface TestImage {
  repository: string;
  tag: string;
  digest: string;
  /** repository:tag */
  tagRef: string;
  /** repository@digest */
  digestRef: string;
}

/** What a put needs to deploy a failing image, and what a hand-written container needs for the same behaviour. */
export interface FailingImage {
  ref: string;
  /** Params of a put: image_ref, plus readiness_path where the behaviour needs a probe. */
  params: { image_ref: string; readiness_path?: string };
  /** Fields of a container in a hand-written Pod template. */
  container: { image: string; readinessProbe?: Record<string, unknown> };
}

/** The tags of the Job images: a Job whose image tag changes has a changed pod template. Each tag is pushed. */
export const jobTags = ['1', '2', '3'] as const;
export type JobTag = (typeof jobTags)[number];

/** The image of a Job's Pod (restartPolicy Never or OnFailure): what a hand-written Job container needs. */
export interface JobImage {
  ref: string;
  container: { image: string };
}

/** The file scripts/kind/test-images.sh writes. */
interface RealImages {
  web: { repository: string; digests: Record<string, string> };
  crashing: string;
  hanging: string;
  unpullable: string;
  /** Repositories of the Job images, pushed with every tag in jobTags. */
  completing: string;
  failing: string;
}

let realImages: RealImages | undefined;
function real(): RealImages {
  if (realImages) return realImages;
  const file = process.env.KDR_TEST_IMAGES;
  if (!file) throw new Error('KDR_TEST_KUBELET=real needs KDR_TEST_IMAGES (written by scripts/kind/test-images.sh)');
  realImages = JSON.parse(readFileSync(file, 'utf8')) as RealImages;
  return realImages;
}

/** A made-up but well-formed digest: the stand-in never pulls. */
const standinDigest = (seed: string) =>
  'sha256:' + Buffer.from(seed.padEnd(32, '.')).toString('hex').slice(0, 64).padEnd(64, '0');

function image(repository: string, tag: string, digest: string): TestImage {
  return { repository, tag, digest, tagRef: `${repository}:${tag}`, digestRef: `${repository}@${digest}` };
}

/** An image that runs and becomes ready (it serves HTTP on 8080 and runs as a non-root user). */
export function readyImage(tag: ReadyTag): TestImage {
  if (kubeletKind() === 'standin') return image('registry.local/team/web', tag, standinDigest(`web-${tag}`));
  const { repository, digests } = real().web;
  const digest = digests[tag];
  if (!digest)
    throw new Error(
      `${process.env.KDR_TEST_IMAGES}: no digest for tag ${tag} (scripts/kind/test-images.sh pushes readyTags)`,
    );
  return image(repository, tag, digest);
}

/** An image reference that really cannot be pulled: ErrImagePull, then ImagePullBackOff. */
export function unpullableImage(): FailingImage {
  const ref = kubeletKind() === 'standin' ? 'registry.local/unpullable/web:1' : real().unpullable;
  return { ref, params: { image_ref: ref }, container: { image: ref } };
}

/** An image whose command exits 1 at once: CrashLoopBackOff with a rising restartCount. */
export function crashingImage(): FailingImage & { restartWithinMs: number } {
  const ref = kubeletKind() === 'standin' ? 'registry.local/crashing/web:1' : real().crashing;
  // A real kubelet backs off 10 s, 20 s, 40 s … between restarts; the stand-in restarts every 2 s.
  return {
    ref,
    params: { image_ref: ref },
    container: { image: ref },
    restartWithinMs: kubeletKind() === 'standin' ? 15_000 : 90_000,
  };
}

/**
 * A container that runs but never becomes ready, and never exits (a Job with it never finishes). For a real kubelet:
 * an image that listens on nothing, whatever its args, with a readiness probe on the (closed) port 8080; the stand-in
 * needs only the name.
 */
export function hangingImage(): FailingImage {
  if (kubeletKind() === 'standin') {
    const ref = 'registry.local/hanging/web:1';
    return { ref, params: { image_ref: ref }, container: { image: ref } };
  }
  const ref = real().hanging;
  return {
    ref,
    params: { image_ref: ref, readiness_path: '/ready' },
    container: { image: ref, readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 } },
  };
}

function jobImage(repository: string, tag: JobTag): JobImage {
  const ref = `${repository}:${tag}`;
  return { ref, container: { image: ref } };
}

/**
 * A Job's image that runs briefly and exits 0: its Pod Succeeds (exit code 0, reason Completed), the Job completes.
 * A real one ignores a Job's `args`, as the stand-in does.
 */
export function completingJobImage(tag: JobTag = '1'): JobImage {
  return jobImage(kubeletKind() === 'standin' ? 'registry.local/team/migrate' : real().completing, tag);
}

/**
 * A Job's image that exits 1, with a termination message saying so (`… exits with code 1 …`): each Pod Fails (reason
 * Error), the Job fails with BackoffLimitExceeded; under restartPolicy OnFailure the container restarts in place.
 */
export function failingJobImage(tag: JobTag = '1'): JobImage {
  return jobImage(kubeletKind() === 'standin' ? 'registry.local/team/migrate-fails' : real().failing, tag);
}
