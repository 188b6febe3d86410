#!/usr/bin/env bash
# Removes what scripts/kind/up.sh made: the kind cluster (KIND_CLUSTER, default kdr), the registry container
# kdr-registry and .kind/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
kind delete cluster --name "${KIND_CLUSTER:-kdr}"
docker rm -f kdr-registry >/dev/null 2>&1 || true
rm -rf "$root/.kind"
