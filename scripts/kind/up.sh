#!/usr/bin/env bash
# A kind cluster for the suites with real kubelets: what the CI kind job runs, and what you run locally where Docker
# and kind are installed (docs/cluster.md, "The kind matrix").
#
#   KIND_NODE_IMAGE=kindest/node:v1.34.0@sha256:… scripts/kind/up.sh
#   source .kind/env    # KDR_TEST_KUBECONFIG, KDR_TEST_SOURCE, KDR_TEST_IMAGES, KDR_TEST_RBAC_TOKEN, KDR_TEST_KUBELET
#
# It makes, each only when missing:
#   - a local registry `kdr-registry` (registry:2) on 127.0.0.1:5001, which the nodes reach as localhost:5001;
#   - the cluster `kdr` (KIND_CLUSTER overrides) from KIND_NODE_IMAGE, one node labelled ingress-ready=true;
#   - ingress-nginx from the manifest of a pinned release (INGRESS_NGINX_MANIFEST overrides);
#   - the test images (scripts/kind/test-images.sh), a ServiceAccount `rbac-test` without any binding and a token of it;
#   - .kind/kubeconfig, .kind/source.json (scripts/kind/source-from-kubeconfig.mjs), .kind/images.json, .kind/env.
# Every wait is bounded. scripts/kind/down.sh removes the cluster and the registry.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cluster=${KIND_CLUSTER:-kdr}
node_image=${KIND_NODE_IMAGE:?set KIND_NODE_IMAGE to a kindest/node image pinned by digest (see .github/workflows/ci.yml)}
registry_name=kdr-registry
registry_port=5001
# ingress-nginx's manifest for kind, pinned to a release tag (its images are pinned by digest inside it).
ingress_manifest=${INGRESS_NGINX_MANIFEST:-https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.12.1/deploy/static/provider/kind/deploy.yaml}
state=$root/.kind
node_bin=$root/node_modules/.bin/node
[[ -x $node_bin ]] || node_bin=node

log() { printf '[kind] %s\n' "$*" >&2; }
mkdir -p "$state"
chmod 700 "$state"

if [[ $(docker inspect -f '{{.State.Running}}' "$registry_name" 2>/dev/null || true) != true ]]; then
  log "starting registry $registry_name on 127.0.0.1:$registry_port"
  docker rm -f "$registry_name" >/dev/null 2>&1 || true
  docker run -d --restart=always -p "127.0.0.1:$registry_port:5000" --network bridge --name "$registry_name" registry:2 >/dev/null
fi

if ! kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  log "creating cluster $cluster from $node_image"
  # config_path lets each node read hosts.toml files (below); node images of kind v0.27.0+ set it already.
  kind create cluster --name "$cluster" --image "$node_image" --wait 120s --config - <<'YAML'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "/etc/containerd/certs.d"
nodes:
  - role: control-plane
    kubeadmConfigPatches:
      - |
        kind: InitConfiguration
        nodeRegistration:
          kubeletExtraArgs:
            node-labels: "ingress-ready=true"
YAML
fi

# The nodes pull localhost:5001/… from the registry container, over the kind network.
for node in $(kind get nodes --name "$cluster"); do
  docker exec "$node" mkdir -p "/etc/containerd/certs.d/localhost:$registry_port"
  printf '[host."http://%s:5000"]\n' "$registry_name" | docker exec -i "$node" cp /dev/stdin "/etc/containerd/certs.d/localhost:$registry_port/hosts.toml"
done
if [[ $(docker inspect -f '{{json .NetworkSettings.Networks.kind}}' "$registry_name") == null ]]; then
  docker network connect kind "$registry_name"
fi

kind get kubeconfig --name "$cluster" > "$state/kubeconfig"
chmod 600 "$state/kubeconfig"
"$node_bin" "$here/source-from-kubeconfig.mjs" "$state/kubeconfig" "$state/source.json"
k() { kubectl --kubeconfig "$state/kubeconfig" "$@"; }

log "installing ingress-nginx from $ingress_manifest"
k apply -f "$ingress_manifest" >/dev/null
k -n ingress-nginx wait --for=condition=Available deployment/ingress-nginx-controller --timeout=300s

log 'building and pushing the test images'
"$here/test-images.sh" "localhost:$registry_port" "$state/images.json"

# A user with no grants at all, for the RBAC tests (1.24+: tokens are asked for, not stored in Secrets).
k -n default get serviceaccount rbac-test >/dev/null 2>&1 || k -n default create serviceaccount rbac-test >/dev/null
(umask 077 && k -n default create token rbac-test --duration=6h > "$state/rbac-token")

cat > "$state/env" <<ENV
export KDR_TEST_KUBECONFIG='$state/kubeconfig'
export KDR_TEST_SOURCE='$state/source.json'
export KDR_TEST_IMAGES='$state/images.json'
export KDR_TEST_KUBELET=real
export KDR_TEST_RBAC_TOKEN="\$(cat '$state/rbac-token')"
ENV
log "cluster $cluster is up: $(k version -o json | "$node_bin" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).serverVersion.gitVersion))')"
log "next: source .kind/env && RESOURCE_RUNNER=image node_modules/.bin/vitest run test/contract/protocol.test.ts test/integration"
