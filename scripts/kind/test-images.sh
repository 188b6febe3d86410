#!/usr/bin/env bash
# Builds the images the suites deploy on a real kubelet (scripts/kind/test-images/Dockerfile), pushes them to a registry
# the cluster's nodes pull from, and writes the file test/support/images.ts reads (KDR_TEST_IMAGES):
#
#   scripts/kind/test-images.sh REGISTRY OUT      e.g. scripts/kind/test-images.sh localhost:5001 .kind/images.json
#
# The ready image is pushed once per tag in test/support/images.ts's readyTags, each with its own digest; the Job
# images (completes, fails) once per tag in its jobTags. The unpullable reference names a repository the registry
# does not have: pulling it really fails.
set -euo pipefail
(($# == 2)) || { printf 'usage: test-images.sh REGISTRY OUT\n' >&2; exit 2; }
registry=$1
out=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# The project's Node 24 (a devDependency) where npm ci ran, else the one on PATH: it must be 24 or newer.
node_bin=$root/node_modules/.bin/node
[[ -x $node_bin ]] || node_bin=node

# Node strips the types of the .ts file; it imports nothing but node: modules.
read -r -a tags < <("$node_bin" --input-type=module -e "
  const { readyTags } = await import('$root/test/support/images.ts');
  console.log(readyTags.join(' '));")
read -r -a job_tags < <("$node_bin" --input-type=module -e "
  const { jobTags } = await import('$root/test/support/images.ts');
  console.log(jobTags.join(' '));")

build_push() { # TARGET REF [BUILD ARGS...]
  local target=$1 ref=$2
  shift 2
  docker build --quiet --target "$target" "$@" -t "$ref" "$here/test-images" >/dev/null
  docker push --quiet "$ref" >/dev/null
  # The registry's digest of what was pushed (RepoDigests holds it once the image has been pushed).
  docker inspect --format '{{range .RepoDigests}}{{println .}}{{end}}' "$ref" | grep -m1 "^${ref%:*}@" | cut -d@ -f2
}

web_repo="$registry/kdr/web"
digests=()
for tag in "${tags[@]}"; do
  digest=$(build_push web "$web_repo:$tag" --build-arg "TAG=$tag")
  [[ $digest == sha256:* ]] || { printf 'error: no digest for %s:%s after the push\n' "$web_repo" "$tag" >&2; exit 1; }
  digests+=("$tag=$digest")
  printf 'pushed %s:%s (%s)\n' "$web_repo" "$tag" "$digest" >&2
done
build_push crashing "$registry/kdr/crashing:1" >/dev/null
build_push hanging "$registry/kdr/hanging:1" >/dev/null
for tag in "${job_tags[@]}"; do
  build_push completes "$registry/kdr/completes:$tag" >/dev/null
  build_push fails "$registry/kdr/fails:$tag" >/dev/null
done

mkdir -p "$(dirname "$out")"
"$node_bin" --input-type=module -e "
  import { writeFileSync } from 'node:fs';
  const [out, registry, webRepo, ...pairs] = process.argv.slice(1);
  const digests = Object.fromEntries(pairs.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  writeFileSync(out, JSON.stringify({
    web: { repository: webRepo, digests },
    crashing: registry + '/kdr/crashing:1',
    hanging: registry + '/kdr/hanging:1',
    unpullable: registry + '/kdr/does-not-exist:1',
    completing: registry + '/kdr/completes',
    failing: registry + '/kdr/fails',
  }, null, 2) + '\n');" "$out" "$registry" "$web_repo" "${digests[@]}"
printf 'wrote %s\n' "$out" >&2
