#!/usr/bin/env bash
# `npm run cluster:down`: stops exactly the processes scripts/cluster/up.sh started, found by their
# pid files in .cluster/run/ (a pid is only signalled when its command line is still that daemon's).
# Idempotent. Keeps .cluster/logs/ (including the audit log) for inspection; up.sh starts afresh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/cluster/lib.sh
source "$ROOT/scripts/cluster/lib.sh"
cluster_paths "$ROOT"
quiet=false
[[ ${1-} == --quiet ]] && quiet=true

rm -f "$CLUSTER_DIR/url" # the cluster no longer counts as up, even if a stop below fails

stopped=0
for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
  name=${DAEMONS[i]}
  if pid=$(pid_of "$name"); then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do # up to 10 s for a clean exit, then SIGKILL
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name (pid $pid) did not exit on SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    $quiet || log "stopped $name (pid $pid)"
    stopped=$((stopped + 1))
  fi
  rm -f "$RUN_DIR/$name.pid"
done
$quiet || { ((stopped)) && log "cluster down" || log "cluster was not running"; }
exit 0
