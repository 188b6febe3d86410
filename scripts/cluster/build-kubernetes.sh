#!/usr/bin/env bash
# Builds the test cluster's programs from their Go modules, as a Go user depending on them would:
#   kube-apiserver, kube-controller-manager, kubectl   from k8s.io/kubernetes (scripts/cluster/go/kube-1.MINOR)
#   etcd                                                from go.etcd.io/etcd/server/v3 (scripts/cluster/go/etcd-3.6)
# Each build module pins every module in its go.mod/go.sum (written by scripts/cluster/go/pin.sh); nothing is copied
# into the repo. Binaries are cached per version in ~/.cache/kubernetes-deploy-resource/ and rebuilt only when the
# build module or the Go toolchain changes. A no-op when everything is cached.
#   usage: build-kubernetes.sh   (the version comes from KDR_KUBE_VERSION via lib.sh)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/cluster/lib.sh
source "$HERE/lib.sh"

GO_BIN=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
if [[ ! -x $GO_BIN ]]; then
  log "no Go toolchain: install Go 1.26 (go.dev/doc/install) or set GO=/path/to/go"
  exit 1
fi

# recipe MODULE_DIR: what a cached build was made from (its go.mod, go.sum and the toolchain).
recipe() { cat "$1/go.mod" "$1/go.sum" <("$GO_BIN" version) | sha256sum | cut -c1-16; }

# build_module MODULE_DIR OUT_DIR LDFLAGS PACKAGE...: go build the packages into OUT_DIR unless cached.
build_module() {
  local module=$1 out=$2 ldflags=$3 want
  shift 3
  want=$(recipe "$module")
  [[ $(cat "$out/RECIPE" 2>/dev/null) == "$want" ]] && return 0
  mkdir -p "$out"
  exec 9>"$out.lock" # two cluster:up at once: one builds, the other waits and reuses the result
  flock 9
  if [[ $(cat "$out/RECIPE" 2>/dev/null) != "$want" ]]; then
    local started=$SECONDS tmp=$out/.tmp
    log "building $(printf '%s ' "${@##*/}")from $(basename "$module") (first use: several minutes on 2 cores)"
    rm -rf "$tmp" && mkdir -p "$tmp"
    # -mod=readonly: go.mod and go.sum are the pin; a build that would change them fails instead.
    if ! (cd "$module" && "$GO_BIN" build -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp/" "$@") \
      >"$out.build.log" 2>&1; then
      log "go build failed; last lines of $out.build.log:"
      tail -n 40 "$out.build.log" >&2
      exit 1
    fi
    rm -f "$out/RECIPE"
    local b
    for b in "$tmp"/*; do mv -f "$b" "$out/"; done # atomic per binary: a half-written one is never picked up
    rmdir "$tmp"
    echo "$want" >"$out/RECIPE"
    log "built in $((SECONDS - started)) s: $out"
  fi
  exec 9>&-
}

kube_module=$HERE/go/kube-$KUBE_MINOR
[[ -f $kube_module/go.mod ]] || {
  log "no build module for Kubernetes $KUBE_MINOR ($kube_module)"
  exit 1
}
# The version stamps Kubernetes' own build (hack/lib/version.sh) sets, so /version and kubectl report the release.
stamp() {
  local pkg=$1
  printf -- '-X %s.gitVersion=%s -X %s.gitMajor=1 -X %s.gitMinor=%s -X %s.gitTreeState=clean ' \
    "$pkg" "$KUBE_VERSION" "$pkg" "$pkg" "${KUBE_MINOR#1.}" "$pkg"
}
build_module "$kube_module" "$(kube_bin_dir)" \
  "-s -w $(stamp k8s.io/component-base/version)$(stamp k8s.io/client-go/pkg/version)" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl
build_module "$HERE/go/etcd-3.6" "$(etcd_bin_dir)" "-s -w" ./cmd/etcd
