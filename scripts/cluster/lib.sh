# Shared helpers for the scripts in scripts/cluster/ (sourced, not executed).

log() { printf '[cluster] %s\n' "$*" >&2; }

# apt-get that waits for (and retries on) the dpkg/apt lock: another engineer's or job's
# apt-get may be running at the same time.
apt_get() {
  local attempt
  for attempt in 1 2 3 4 5; do
    if DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3 "$@"; then
      return 0
    fi
    log "apt-get $* failed (attempt $attempt); retrying in 10 s"
    sleep 10
  done
  return 1
}

# Installs the given Debian packages when any is missing; runs `apt-get update` only then.
ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    log "not root: install them by hand (apt-get install ${missing[*]})"
    return 1
  fi
  apt_get update -qq >&2
  apt_get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The Kubernetes versions the test cluster runs, each pinned by its build module in scripts/cluster/go/kube-MINOR
# (scripts/cluster/go/pin.sh); KDR_KUBE_VERSION picks the minor, 1.37 by default.
declare -A KUBE_PINNED=([1.35]=v1.35.4 [1.36]=v1.36.3 [1.37]=v1.37.2)
KUBE_DEFAULT_MINOR=1.37
KUBE_MINOR=${KDR_KUBE_VERSION:-$KUBE_DEFAULT_MINOR}
KUBE_MINOR=${KUBE_MINOR#v}
KUBE_MINOR=$(cut -d. -f1,2 <<<"$KUBE_MINOR")
if [[ -z ${KUBE_PINNED[$KUBE_MINOR]-} ]]; then
  printf '[cluster] KDR_KUBE_VERSION=%s: not a pinned version (one of: %s)\n' "${KDR_KUBE_VERSION-}" \
    "$(printf '%s\n' "${!KUBE_PINNED[@]}" | sort -V | tr '\n' ' ')" >&2
  exit 2
fi
KUBE_VERSION=${KUBE_PINNED[$KUBE_MINOR]}
ETCD_VERSION=v3.6.17 # scripts/cluster/go/etcd-3.6/go.mod
# Built binaries are cached outside the repo so every clone/worktree on the machine shares them.
cache_root() { echo "${KDR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubernetes-deploy-resource}"; }
kube_bin_dir() { echo "$(cache_root)/kube-$KUBE_VERSION"; }
etcd_bin_dir() { echo "$(cache_root)/etcd-$ETCD_VERSION"; }

# The daemons up.sh starts, in start order (down.sh stops them in reverse).
DAEMONS=(etcd kube-apiserver kube-controller-manager kubelet-standin)

cluster_paths() {
  CLUSTER_DIR=$1/.cluster
  PKI_DIR=$CLUSTER_DIR/pki
  RUN_DIR=$CLUSTER_DIR/run
  LOG_DIR=$CLUSTER_DIR/logs
  KUBECONFIG_FILE=$CLUSTER_DIR/kubeconfig
}

# write_kubeconfig FILE CERT_NAME SERVER_URL: a kubeconfig with the CA and client cert embedded.
write_kubeconfig() {
  local file=$1 name=$2 url=$3
  (umask 077 && cat >"$file" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: kdr-test
    cluster:
      server: $url
      certificate-authority-data: $(base64 -w0 "$PKI_DIR/ca.crt")
users:
  - name: $name
    user:
      client-certificate-data: $(base64 -w0 "$PKI_DIR/$name.crt")
      client-key-data: $(base64 -w0 "$PKI_DIR/$name.key")
contexts:
  - name: kdr-test
    context:
      cluster: kdr-test
      user: $name
current-context: kdr-test
KUBECONFIG
  )
}

# start_daemon NAME COMMAND ARGS...: runs it detached (own session, so a test runner's Ctrl-C or
# process-group kill does not take the cluster down) with a pid file and a log file.
start_daemon() {
  local name=$1
  shift
  # 8>&-: the daemon must not inherit up.sh's lock on .cluster/up.lock (it would hold it forever).
  setsid "$@" >"$LOG_DIR/$name.log" 2>&1 </dev/null 8>&- &
  echo $! >"$RUN_DIR/$name.pid"
}

# pid_of NAME: prints the daemon's pid when its pid file names a live process that is really ours:
# argv[0] must be the daemon's program and the arguments must mention this repo's .cluster dir.
pid_of() {
  local name=$1 pid cmdline argv0
  [[ -f $RUN_DIR/$name.pid ]] || return 1
  pid=$(<"$RUN_DIR/$name.pid")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  cmdline=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  argv0=$(head -n1 <<<"$cmdline")
  case $name in
  etcd) [[ $(basename "$argv0") == etcd ]] ;;
  kube-apiserver | kube-controller-manager) [[ $(basename "$argv0") == "$name" ]] ;;
  kubelet-standin) [[ $(basename "$argv0") == node* ]] && grep -q 'kubelet-standin\.ts$' <<<"$cmdline" ;;
  *) false ;;
  esac || return 1
  grep -qF "$CLUSTER_DIR/" <<<"$cmdline" || return 1
  echo "$pid"
}

api_get() {
  curl -fsS --max-time 5 --cacert "$PKI_DIR/ca.crt" --cert "$PKI_DIR/admin.crt" --key "$PKI_DIR/admin.key" \
    "$(cat "$CLUSTER_DIR/url" 2>/dev/null || echo "$CLUSTER_URL")$1"
}

# Ready, and without the not-ready taint (the DaemonSet controller only schedules onto an untainted Node).
node_ready() {
  api_get "/api/v1/nodes/$1" 2>/dev/null |
    jq -e 'any(.status.conditions[]; .type == "Ready" and .status == "True")
      and all(.spec.taints[]?; .key != "node.kubernetes.io/not-ready")' >/dev/null
}

# wait_for WHAT SECONDS COMMAND...: polls COMMAND; fails early (showing the log) if a daemon died.
wait_for() {
  local what=$1 timeout=$2 deadline name
  shift 2
  deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    for name in "${DAEMONS[@]}"; do
      if [[ -f $RUN_DIR/$name.pid ]] && ! pid_of "$name" >/dev/null; then
        log "$name exited while waiting for $what; last lines of $LOG_DIR/$name.log:"
        tail -n 30 "$LOG_DIR/$name.log" >&2 || true
        return 1
      fi
    done
    if (($(date +%s) >= deadline)); then
      log "timed out after ${timeout} s waiting for $what (logs: $LOG_DIR/)"
      return 1
    fi
    sleep 0.3
  done
}

cluster_healthy() {
  local name
  [[ -f $CLUSTER_DIR/url && -f $CLUSTER_DIR/source.json && -f $KUBECONFIG_FILE ]] || return 1
  for name in "${DAEMONS[@]}"; do pid_of "$name" >/dev/null || return 1; done
  # A few tries: a busy apiserver must not get a running cluster (maybe mid-test) torn down.
  local attempt
  for attempt in 1 2 3; do
    [[ $(api_get /readyz 2>/dev/null) == ok ]] && return 0
    sleep 1
  done
  return 1
}
