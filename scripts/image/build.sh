#!/usr/bin/env bash
# Builds the resource image from the Dockerfile and tags it $IMAGE_NAME (default localhost/kubernetes-deploy-resource:dev).
#
#   bash scripts/image/build.sh            (npm run image:build)
#
# Engine: `docker build` where a Docker engine answers (`docker info`), else buildah as root with chroot isolation, the
# overlay storage driver and its layer cache (a second build with unchanged inputs takes seconds). With buildah, the
# Dockerfile's base (BASE_IMAGE default) is used when it is in local storage or can be pulled; otherwise a local
# stand-in is made once by scripts/image/base.sh and passed as --build-arg BASE_IMAGE=localhost/kdr-base/node:...
# Missing tools (buildah, podman, skopeo, debootstrap, runc) are installed with apt.
#
# Environment:
#   IMAGE_NAME            tag to build (default localhost/kubernetes-deploy-resource:dev)
#   IMAGE_ENGINE          docker|buildah, to force an engine
#   BASE_IMAGE            base image to build from (overrides the Dockerfile default and the local stand-in)
#   IMAGE_BASE            auto (default: the real base if present or pullable, else the local stand-in) | local | pull
#   IMAGE_BUILD_CA_FILE   CA bundle handed to `npm ci` as a build secret (default: the host's bundle, if any)
#   IMAGE_VERSION, IMAGE_REVISION, IMAGE_SOURCE_URL   OCI label values (default: package.json version, git HEAD, git
#                         remote `origin`)
# Progress goes to stderr; the last stderr line gives the image's size and its base's.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/image/lib.sh
source "$here/lib.sh"
repo=$(cd "$here/../.." && pwd)
cd "$repo"
start=$SECONDS

[[ -f Dockerfile ]] || die "no Dockerfile in $repo"
for f in src/entrypoints/check.ts src/entrypoints/in.ts src/entrypoints/out.ts; do
  [[ -f $f ]] || die "$f is missing: the image bundles src/entrypoints/{check,in,out}.ts"
done

# The Dockerfile's default base (ARG BASE_IMAGE=...), and the Node version in its tag.
default_base=$(sed -nE 's/^ARG BASE_IMAGE=([^[:space:]]+).*/\1/p' Dockerfile | head -n1)
[[ -n $default_base ]] || die 'no `ARG BASE_IMAGE=...` default in the Dockerfile'
# Fully qualified, as Docker reads it: buildah would resolve a short name like node:TAG to ANY local image whose
# repository ends in /node (the local stand-in included), so it only ever gets qualified names from here.
qualify() {
  local first=${1%%/*}
  if [[ $1 != */* ]]; then printf 'docker.io/library/%s\n' "$1"
  elif [[ $first == *.* || $first == *:* || $first == localhost ]]; then printf '%s\n' "$1"
  else printf 'docker.io/%s\n' "$1"
  fi
}
default_base=$(qualify "$default_base")
node_version=$(sed -nE 's/^([^@]*\/)?node:([0-9]+\.[0-9]+\.[0-9]+)-.*/\2/p' <<<"$default_base")

version=${IMAGE_VERSION:-$(node -p 'require("./package.json").version' 2>/dev/null || echo dev)}
revision=${IMAGE_REVISION:-$(git rev-parse --verify -q HEAD 2>/dev/null || echo unknown)}
if [[ -z ${IMAGE_REVISION:-} && $revision != unknown ]] && [[ -n $(git status --porcelain -- Dockerfile package.json package-lock.json tsconfig.json scripts/build.mjs src 2>/dev/null) ]]; then
  revision="$revision-dirty"
fi
source_url=${IMAGE_SOURCE_URL:-$(git remote get-url origin 2>/dev/null || true)}
ca_file=${IMAGE_BUILD_CA_FILE-}
if [[ -z ${IMAGE_BUILD_CA_FILE+set} ]]; then
  for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
    [[ -s $f ]] && { ca_file=$f; break; }
  done
fi
common_args=(
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "SOURCE_URL=$source_url"
  -f Dockerfile -t "$IMAGE_NAME"
)
[[ -n $ca_file ]] && common_args+=(--secret "id=build_ca,src=$ca_file")

engine=$(image_engine)
log "engine: $engine; image: $IMAGE_NAME (version $version, revision $revision)"

if [[ $engine == docker ]]; then
  base=${BASE_IMAGE:-$default_base}
  DOCKER_BUILDKIT=1 docker build --build-arg "BASE_IMAGE=$base" "${common_args[@]}" . >&2
else
  ensure_buildah_tools
  # Which base: an explicit BASE_IMAGE; else the Dockerfile's default when local or pullable; else the local stand-in.
  base=${BASE_IMAGE:+$(qualify "$BASE_IMAGE")}
  if [[ -z $base ]]; then
    mode=${IMAGE_BASE:-auto}
    if [[ $mode != local ]] && bah inspect --type image "$default_base" >/dev/null 2>&1; then
      base=$default_base
    elif [[ $mode != local ]] && log "pulling $default_base" && timeout 300 buildah --storage-driver "$IMAGE_STORAGE_DRIVER" pull --quiet "$default_base" >/dev/null 2>"${TMPDIR:-/tmp}/kdr-pull.$$.log"; then
      base=$default_base
    elif [[ $mode == pull ]]; then
      cat "${TMPDIR:-/tmp}/kdr-pull.$$.log" >&2 || true
      die "cannot pull $default_base"
    else
      [[ -n $node_version ]] || die "cannot tell the Node version from the Dockerfile's base $default_base"
      [[ $mode == local ]] || log "cannot pull $default_base ($(tail -n1 "${TMPDIR:-/tmp}/kdr-pull.$$.log" 2>/dev/null | cut -c1-160)); using a local stand-in"
      base=localhost/kdr-base/node:$node_version-bookworm-slim
      bash "$here/base.sh" "$node_version" "$base"
    fi
    rm -f "${TMPDIR:-/tmp}/kdr-pull.$$.log"
  elif ! bah inspect --type image "$base" >/dev/null 2>&1; then
    log "pulling $base"
    bah pull --quiet "$base" >/dev/null || die "cannot pull $base"
  fi
  log "building from $base (buildah, chroot isolation, $IMAGE_STORAGE_DRIVER storage, layer cache)"
  # --pull=false: use the base found above, never ask a registry whether it is newer.
  bah bud --isolation chroot --layers --force-rm --pull=false --build-arg "BASE_IMAGE=$base" "${common_args[@]}" . >&2
fi

size=$(image_size_bytes "$engine" "$IMAGE_NAME")
base_size=$(image_size_bytes "$engine" "$base")
ratio=$(awk -v a="$size" -v b="$base_size" 'BEGIN { printf "%.2f", a / b }')
log "built $IMAGE_NAME in $((SECONDS - start)) s: $(human_mb "$size") (base $base: $(human_mb "$base_size"); ${ratio}x)"
