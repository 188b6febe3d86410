#!/usr/bin/env bash
# Maintainer tool (not run by cluster:up): writes the build module for one Kubernetes version,
# scripts/cluster/go/kube-<minor>/{go.mod,go.sum}, the way a Go user depends on k8s.io/kubernetes:
# require it at the pinned version, map each staging module (k8s.io/api, k8s.io/apiserver, ...) to its
# published v0.<minor>.<patch> with `replace` (k8s.io/kubernetes' own go.mod points them at ./staging,
# which a dependent cannot use), and let `go mod tidy` pin everything else in go.sum.
#   usage: scripts/cluster/go/pin.sh v1.37.2
set -euo pipefail
version=${1:?usage: pin.sh vX.Y.Z}
[[ $version =~ ^v1\.([0-9]+)\.([0-9]+)$ ]] || { echo "pin.sh: not a Kubernetes version: $version" >&2; exit 2; }
minor=${BASH_REMATCH[1]} patch=${BASH_REMATCH[2]}
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kube-1.$minor
mkdir -p "$dir"
gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
staging=$(sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod")
goline=$(sed -n 's/^go \(.*\)/\1/p' "$gomod")
{
  echo "// The build module of the test cluster's Kubernetes $version (written by scripts/cluster/go/pin.sh)."
  echo "module kdr.local/cluster-build/kube-1.$minor"
  echo
  echo "go $goline"
  echo
  echo "require k8s.io/kubernetes $version"
  echo
  echo "replace ("
  for m in $staging; do echo "	$m => $m v0.$minor.$patch"; done
  echo ")"
  echo
  echo "tool ("
  for c in kube-apiserver kube-controller-manager kubectl; do echo "	k8s.io/kubernetes/cmd/$c"; done
  echo ")"
} >"$dir/go.mod"
rm -f "$dir/go.sum"
(cd "$dir" && GOFLAGS=-mod=mod go mod tidy)
echo "pinned Kubernetes $version in $dir" >&2
