#!/usr/bin/env bash
# Runs one command inside the built resource image the way Concourse runs a resource script: this process's stdin is
# the script's stdin (the JSON request), its stdout and stderr are the script's, its exit code is the script's.
#
#   scripts/image/run.sh [--mount DIR]... [--env NAME[=VALUE]]... [--image REF] -- COMMAND [ARG...]
#
#   printf '%s' "$request" | scripts/image/run.sh -- /opt/resource/check
#   printf '%s' "$request" | scripts/image/run.sh --mount "$dest" -- /opt/resource/in "$dest"
#   printf '%s' "$request" | scripts/image/run.sh --mount "$src" --env BUILD_ID=42 -- /opt/resource/out "$src"
#
# --mount DIR   bind-mounts the host directory DIR (read-write) at the same path inside the container, so the
#               `in` destination / `out` sources path is the same on both sides. Repeatable. DIR must exist.
# --env N[=V]   sets N in the container (N alone: its value here, handed over by name so that it is on no command
#               line; left out when unset here). Repeatable. BUILD_ID,
#               BUILD_NAME, BUILD_JOB_NAME, BUILD_PIPELINE_NAME, BUILD_TEAM_NAME, BUILD_CREATED_BY and ATC_EXTERNAL_URL
#               are passed through without asking when they are set here; nothing else from this environment is.
# --image REF   default $IMAGE_NAME (localhost/kubernetes-deploy-resource:dev, made by scripts/image/build.sh).
#
# The container shares the host network (a test API server on 127.0.0.1 is reachable) and gets the image's own
# environment (PATH, NODE_VERSION, HOME) plus the variables above, like a Concourse container.
# Runner: `docker run` where a Docker engine answers; else `podman run` with Debian's runc (about 0.4 s of overhead per
# run on a 2-core machine) and explicit ulimits: nofile = this shell's hard limit, nproc = its hard limit capped at
# kernel.pid_max (podman's defaults exceed what this sandbox allows and runc then fails with "error setting rlimits"). IMAGE_ENGINE=docker|podman forces one. Exit codes 125-127 with a podman/docker message on
# stderr are the runner's own failures, not the script's.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/image/lib.sh
source "$here/lib.sh"

usage() { printf 'usage: run.sh [--mount DIR]... [--env NAME[=VALUE]]... [--image REF] -- COMMAND [ARG...]\n' >&2; exit 2; }

image=$IMAGE_NAME
mounts=()
envs=()
for name in BUILD_ID BUILD_NAME BUILD_JOB_NAME BUILD_PIPELINE_NAME BUILD_TEAM_NAME BUILD_CREATED_BY ATC_EXTERNAL_URL; do
  [[ -n ${!name+set} ]] && envs+=("$name=${!name}")
done
while (($#)); do
  case $1 in
    --mount)
      [[ $# -ge 2 ]] || usage
      [[ -d $2 ]] || die "--mount $2: not a directory"
      dir=$(cd "$2" && pwd -P)
      mounts+=(-v "$dir:$dir:rw")
      shift 2 ;;
    --env)
      [[ $# -ge 2 ]] || usage
      if [[ $2 == *=* ]]; then envs+=("$2")
      elif [[ -n ${!2+set} ]]; then export "${2?}"; envs+=("$2")
      fi
      shift 2 ;;
    --image) [[ $# -ge 2 ]] || usage; image=$2; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
(($#)) || usage

env_args=()
for e in "${envs[@]+"${envs[@]}"}"; do env_args+=(-e "$e"); done

engine=${IMAGE_ENGINE:-}
if [[ -z $engine ]]; then
  engine=$(image_engine)
  [[ $engine == buildah ]] && engine=podman
fi

case $engine in
  docker)
    exec docker run --rm -i --network host --pull never "${mounts[@]+"${mounts[@]}"}" "${env_args[@]+"${env_args[@]}"}" \
      "$image" "$@" ;;
  podman|buildah)
    limit() { local v; v=$(ulimit -H "$1"); [[ $v == unlimited ]] && v=-1; printf '%s' "$v"; }
    nofile=$(limit -n)
    nproc=$(limit -u)
    # This sandbox refuses an RLIMIT_NPROC above kernel.pid_max (32768) even under a higher hard limit.
    pid_max=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 32768)
    if [[ $nproc == -1 ]] || ((nproc > pid_max)); then nproc=$pid_max; fi
    # --log-driver none: the request's output is not kept in a container log file; --unsetenv: podman's own TERM and
    # container variables are not part of a Concourse container's environment.
    exec podman --storage-driver "$IMAGE_STORAGE_DRIVER" run --rm -i --quiet --pull never --runtime runc \
      --network host --log-driver none --unsetenv TERM --unsetenv container \
      --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" \
      "${mounts[@]+"${mounts[@]}"}" "${env_args[@]+"${env_args[@]}"}" "$image" "$@" ;;
  *) die "IMAGE_ENGINE=$engine: expected docker or podman" ;;
esac
