#!/usr/bin/env bash
# `npm run cluster:up`: brings up the real Kubernetes test cluster (etcd 3.6 + kube-apiserver +
# kube-controller-manager, 1.37 by default or KDR_KUBE_VERSION=1.35/1.36, built from their Go modules on first use)
# plus the kubelet stand-in.
# Idempotent: returns in seconds when the cluster is already up and healthy.
# Everything it starts runs on loopback with a pid file in .cluster/run/ and a log in .cluster/logs/;
# `npm run cluster:down` stops exactly those. See docs/cluster.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/scripts/cluster
# shellcheck source=scripts/cluster/lib.sh
source "$HERE/lib.sh"
cluster_paths "$ROOT"

NODE_NAME=standin-node
# Always Node 24 from the devDependency (the system node may be older and lacks type stripping).
NODE_BIN=$ROOT/node_modules/.bin/node
if [[ ! -x $NODE_BIN ]]; then
  log "missing $NODE_BIN: run 'npm ci' first"
  exit 1
fi

mkdir -p "$CLUSTER_DIR"
exec 8>"$CLUSTER_DIR/up.lock" # one cluster:up at a time (e.g. two test runs starting together)
flock 8

# What the running cluster was started from: a cluster started by another version of this script or of
# the stand-in (e.g. other --controllers) is restarted, not reused.
CONFIG_ID=$( (cat "$HERE/up.sh" "$HERE/lib.sh" "$ROOT"/test/cluster/kubelet-{standin,logs}.ts && echo "$KUBE_VERSION") |
  sha256sum | cut -c1-16)
if cluster_healthy; then
  if [[ $(cat "$CLUSTER_DIR/config-id" 2>/dev/null) == "$CONFIG_ID" ]]; then
    log "cluster already up: $(cat "$CLUSTER_DIR/url") (kubeconfig: $KUBECONFIG_FILE)"
    exit 0
  fi
  log "the running cluster was started by another version of up.sh or the kubelet stand-in: restarting it"
fi

started=$(date +%s)
ensure_packages openssl curl jq
bash "$HERE/build-kubernetes.sh" # etcd, kube-apiserver, kube-controller-manager and kubectl of $KUBE_VERSION
BIN_DIR=$(kube_bin_dir)

# Anything left from an earlier, now unhealthy cluster goes: stop its processes, start afresh.
bash "$HERE/down.sh" --quiet
# From here on, a failure stops what this run started (the logs stay for diagnosis).
trap 'status=$?; if ((status)); then log "cluster:up failed; stopping what it started (logs: $LOG_DIR/)"; bash "$HERE/down.sh" --quiet; fi' EXIT
rm -rf "$PKI_DIR" "$RUN_DIR" "$LOG_DIR" "$CLUSTER_DIR/etcd" "$CLUSTER_DIR"/{kubeconfig,source.json,env,url,rbac-token}
rm -f "$CLUSTER_DIR"/*.kubeconfig "$CLUSTER_DIR"/{tokens.csv,audit-policy.yaml,config-id}
mkdir -p "$RUN_DIR" "$LOG_DIR"

log "making throwaway PKI in $PKI_DIR"
bash "$HERE/pki.sh" "$PKI_DIR"

# Free loopback ports, all asked for at once so they are distinct.
read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KUBELET_PORT < <("$NODE_BIN" -e '
  const net = require("node:net");
  const servers = [0, 1, 2, 3].map(() => net.createServer());
  Promise.all(servers.map((s) => new Promise((ok) => s.listen(0, "127.0.0.1", () => ok(s.address().port)))))
    .then((ports) => { console.log(ports.join(" ")); servers.forEach((s) => s.close()); });')
CLUSTER_URL=https://127.0.0.1:$APISERVER_PORT

# Static token for RBAC tests: user rbac-test, no groups beyond system:authenticated.
RBAC_TOKEN=$(openssl rand -hex 24)
(umask 077 && printf '%s,rbac-test,rbac-test-uid\n' "$RBAC_TOKEN" >"$CLUSTER_DIR/tokens.csv")
(umask 077 && printf '%s\n' "$RBAC_TOKEN" >"$CLUSTER_DIR/rbac-token")

# Audit log at Metadata level for every request (one line per request and stage; RequestReceived is
# omitted so a plain request logs once, at ResponseComplete): benchmarks count requests per user agent.
cat >"$CLUSTER_DIR/audit-policy.yaml" <<'POLICY'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
POLICY

write_kubeconfig "$KUBECONFIG_FILE" admin "$CLUSTER_URL"
write_kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" controller-manager "$CLUSTER_URL"
write_kubeconfig "$CLUSTER_DIR/standin.kubeconfig" standin "$CLUSTER_URL"

log "starting etcd on 127.0.0.1:$ETCD_PORT"
start_daemon etcd "$(etcd_bin_dir)/etcd" \
  --name default --data-dir "$CLUSTER_DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "default=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state new
wait_for "etcd" 30 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

log "starting kube-apiserver $KUBE_VERSION on $CLUSTER_URL"
start_daemon kube-apiserver "$BIN_DIR/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$APISERVER_PORT" \
  --tls-cert-file "$PKI_DIR/apiserver.crt" --tls-private-key-file "$PKI_DIR/apiserver.key" \
  --client-ca-file "$PKI_DIR/ca.crt" --token-auth-file "$CLUSTER_DIR/tokens.csv" --anonymous-auth=false \
  --authorization-mode Node,RBAC \
  --kubelet-client-certificate "$PKI_DIR/kubelet-client.crt" --kubelet-client-key "$PKI_DIR/kubelet-client.key" \
  --kubelet-certificate-authority "$PKI_DIR/ca.crt" --kubelet-preferred-address-types InternalIP \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI_DIR/sa.pub" --service-account-signing-key-file "$PKI_DIR/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 --allow-privileged=true \
  --endpoint-reconciler-type none \
  --audit-policy-file "$CLUSTER_DIR/audit-policy.yaml" --audit-log-path "$LOG_DIR/audit.log" \
  --profiling=false
# (--endpoint-reconciler-type none: a loopback advertise address is invalid in Endpoints.)
wait_for "kube-apiserver /readyz" 90 api_get /readyz

# The workload controllers a release's manifests need (no scheduler, no node lifecycle, no provisioner:
# PVCs stay Pending; the stand-in starts Pods regardless).
CONTROLLERS=deployment-controller,replicaset-controller,statefulset-controller,daemonset-controller
CONTROLLERS+=,job-controller,cronjob-controller,garbage-collector-controller,namespace-controller
CONTROLLERS+=,serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller
CONTROLLERS+=,persistentvolume-binder-controller,persistentvolumeclaim-protection-controller
CONTROLLERS+=,resourcequota-controller
log "starting kube-controller-manager ($CONTROLLERS)"
start_daemon kube-controller-manager "$BIN_DIR/kube-controller-manager" \
  --kubeconfig "$CLUSTER_DIR/controller-manager.kubeconfig" \
  --controllers "$CONTROLLERS" \
  --leader-elect=false --root-ca-file "$PKI_DIR/ca.crt" \
  --service-account-private-key-file "$PKI_DIR/sa.key" \
  --secure-port 0
# The serviceaccount controller creating default/default shows the controllers are working.
wait_for "kube-controller-manager (default service account)" 60 api_get /api/v1/namespaces/default/serviceaccounts/default

log "starting the kubelet stand-in (node $NODE_NAME)"
start_daemon kubelet-standin "$NODE_BIN" "$ROOT/test/cluster/kubelet-standin.ts" \
  --kubeconfig "$CLUSTER_DIR/standin.kubeconfig" --node-name "$NODE_NAME" --kube-version "$KUBE_VERSION" \
  --port "$KUBELET_PORT" --tls-cert-file "$PKI_DIR/kubelet-serving.crt" \
  --tls-private-key-file "$PKI_DIR/kubelet-serving.key" --client-ca-file "$PKI_DIR/ca.crt"
wait_for "node $NODE_NAME Ready" 30 node_ready "$NODE_NAME"

# The resource's source fields for this cluster, base64 exactly as a user would paste them.
b64() { base64 -w0 "$1"; }
cat >"$CLUSTER_DIR/source.json.tmp" <<JSON
{
  "cluster_url": "$CLUSTER_URL",
  "cluster_ca": "$(b64 "$PKI_DIR/ca.crt")",
  "admin_cert": "$(b64 "$PKI_DIR/admin.crt")",
  "admin_key": "$(b64 "$PKI_DIR/admin.key")"
}
JSON
chmod 600 "$CLUSTER_DIR/source.json.tmp"
mv -f "$CLUSTER_DIR/source.json.tmp" "$CLUSTER_DIR/source.json"
cat >"$CLUSTER_DIR/env" <<ENV
# Sourceable: facts about the running test cluster (written by scripts/cluster/up.sh).
CLUSTER_URL=$CLUSTER_URL
APISERVER_PORT=$APISERVER_PORT
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
KUBECONFIG=$KUBECONFIG_FILE
CLUSTER_SOURCE=$CLUSTER_DIR/source.json
RBAC_TOKEN_FILE=$CLUSTER_DIR/rbac-token
AUDIT_LOG=$LOG_DIR/audit.log
NODE_NAME=$NODE_NAME
KUBELET_PORT=$KUBELET_PORT
KUBE_VERSION=$KUBE_VERSION
KUBECTL=$BIN_DIR/kubectl
ENV
echo "$CONFIG_ID" >"$CLUSTER_DIR/config-id"
# Written last: its presence (with healthy processes) is what marks the cluster as up.
echo "$CLUSTER_URL" >"$CLUSTER_DIR/url"

log "cluster up in $(($(date +%s) - started)) s: $CLUSTER_URL"
log "  kubectl --kubeconfig $KUBECONFIG_FILE get nodes"
log "  source fields: $CLUSTER_DIR/source.json; logs: $LOG_DIR/"
