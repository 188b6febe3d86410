# shellcheck shell=bash
# Shared helpers for scripts/image/*.sh (sourced, not run).
#
# Engines: `docker` where a Docker engine answers (`docker info` succeeds), else Debian's buildah/podman running as root
# with chroot isolation (builds) and runc (runs). All buildah/podman calls go through bah/pdm so that they share one
# container storage with one driver: buildah 1.28 ignores STORAGE_DRIVER, hence the explicit --storage-driver flag.

IMAGE_NAME=${IMAGE_NAME:-localhost/kubernetes-deploy-resource:dev}
IMAGE_STORAGE_DRIVER=${IMAGE_STORAGE_DRIVER:-overlay}

log() { printf '[image] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

bah() { buildah --storage-driver "$IMAGE_STORAGE_DRIVER" "$@"; }
pdm() { podman --storage-driver "$IMAGE_STORAGE_DRIVER" "$@"; }

# The engine to use: IMAGE_ENGINE=docker|buildah forces one; otherwise docker only when its engine answers.
image_engine() {
  if [[ -n ${IMAGE_ENGINE:-} ]]; then
    printf '%s\n' "$IMAGE_ENGINE"
  elif command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; then
    printf 'docker\n'
  else
    printf 'buildah\n'
  fi
}

# Installs Debian's buildah, podman, skopeo, debootstrap and runc when one of them is missing (root, apt).
ensure_buildah_tools() {
  local missing=() tool
  for tool in buildah podman skopeo debootstrap runc; do
    command -v "$tool" >/dev/null 2>&1 || [[ -x /usr/sbin/$tool ]] || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
  [[ $(id -u) == 0 ]] || die "missing ${missing[*]}; installing them needs root"
  log "installing ${missing[*]} (apt)"
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -qq)
  # A fresh machine has empty or stale package lists.
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >&2 || die 'apt-get update failed'
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends \
    buildah podman skopeo debootstrap runc conmon uidmap ca-certificates >&2 || die 'apt-get install failed'
}

# Size in bytes of a local image (engine-aware).
image_size_bytes() {
  local engine=$1 ref=$2
  if [[ $engine == docker ]]; then
    docker image inspect --format '{{.Size}}' "$ref"
  else
    pdm image inspect --format '{{.Size}}' "$ref"
  fi
}

human_mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
