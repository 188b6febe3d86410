// Image references: from a registry-image get directory (repository, tag, digest files) or a literal reference.
export interface ImageRef {
  repository: string;
  tag?: string;
  digest?: string;
}

const digestPattern = /^sha256:[a-f0-9]{64}$/;

/** The reference to deploy: pinned by digest when there is one (immutable), else by tag. */
export function imageReference(image: ImageRef): string {
  if (image.digest) return `${image.repository}@${image.digest}`;
  return `${image.repository}:${image.tag ?? 'latest'}`;
}

/** Splits `registry/repo[:tag][@sha256:…]` into its parts; undefined when it is not an image reference. */
export function parseImageReference(ref: string): ImageRef | undefined {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  // A colon after the last slash is a tag; before it, a registry port.
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag)) return undefined;
  }
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*$/.test(rest)) return undefined;
  return { repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** A label-safe version for app.kubernetes.io/version: the tag, else the short digest. */
export function versionLabel(image: ImageRef): string {
  if (image.tag) {
    const safe = image.tag
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 63)
      .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
    if (safe) return safe;
  }
  if (image.digest) return `sha256-${image.digest.slice('sha256:'.length, 'sha256:'.length + 12)}`;
  return 'latest';
}

/**
 * The placeholder for the put's image in extra manifests and patches: a container whose `image` is exactly this runs
 * the image the app gets (`repository@digest`). Nothing else of a file is templated.
 */
export const imagePlaceholder = 'kdr.image';

type Container = { image?: unknown };
type PodSpec = { containers?: unknown; initContainers?: unknown; ephemeralContainers?: unknown };

/** The pod specs of an object: a Pod's own, a workload's template, a CronJob's job template. */
export function podSpecsOf(object: { kind: string; spec?: unknown }): PodSpec[] {
  const spec = object.spec as
    { template?: { spec?: PodSpec }; jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } } | undefined;
  if (!spec || typeof spec !== 'object') return [];
  const found = [
    object.kind === 'Pod' ? (spec as PodSpec) : undefined,
    spec.template?.spec,
    spec.jobTemplate?.spec?.template?.spec,
  ];
  return found.filter((s): s is PodSpec => typeof s === 'object' && s !== null && !Array.isArray(s));
}

/** The containers of a pod spec (init and ephemeral ones included), skipping what is not a container. */
export function containersOf(pod: object): Container[] {
  const { containers, initContainers, ephemeralContainers } = pod as PodSpec;
  return [containers, initContainers, ephemeralContainers]
    .filter(Array.isArray)
    .flat()
    .filter((c): c is Container => typeof c === 'object' && c !== null && !Array.isArray(c));
}

/** Puts `ref` into every container whose image is the placeholder (changes the object); returns how many. */
export function fillImagePlaceholder(object: { kind: string; spec?: unknown }, ref: string): number {
  let filled = 0;
  for (const pod of podSpecsOf(object)) {
    for (const container of containersOf(pod)) {
      if (container.image === imagePlaceholder) {
        container.image = ref;
        filled++;
      }
    }
  }
  return filled;
}
