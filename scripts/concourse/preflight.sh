#!/usr/bin/env bash
# Can this machine run a real Concourse (web + containerd worker + registry-image + a local registry) for the
# test/concourse suite of issue 25? Checks each piece for real and prints one verdict line per piece on stdout:
#
#   bash scripts/concourse/preflight.sh          (npm run concourse:preflight)
#
#   concourse-module   the Go module proxy serves github.com/concourse/concourse at the pinned commit (web, worker, fly)
#   registry-image     the Go module proxy serves github.com/concourse/registry-image-resource (the base resource type)
#   containerd         Debian's containerd + runc start a container from a rootfs, in a network namespace of our own,
#                      and that container reaches a server on a private address of this machine (the path the worker's
#                      containers take to the test cluster's API server)
#   overlay            an overlay mount works (baggageclaim's overlay driver; `naive` otherwise)
#   registry           Debian's docker-registry serves /v2/ on loopback
#   postgres           PostgreSQL (initdb + postgres) answers a query on a unix socket
#   resource-image     our image ($IMAGE_NAME, from npm run image:build) pushed to that registry, fetched back by digest
#                      and unpacked with crane (go-containerregistry, built from scripts/concourse/tools/go.mod and
#                      cached), and its /opt/resource/check run by containerd in the namespace against a TLS stand-in
#                      API server on the private address (CA and IP SAN checked, every request answered 401)
#
# Exit 0 when every piece is there, 1 otherwise. Missing Debian packages are installed with apt (root). Everything it
# starts (containerd, a registry, postgres, a python http server) runs from a temporary directory, on loopback or in
# the network namespace it makes, and is stopped and removed on exit, with the namespace, veth pair and lo address.
#
# Environment:
#   CONCOURSE_COMMIT   the Concourse commit to ask the proxy for (default: the commit the public code index holds for
#                      concourse/concourse's go.mod; which release tag it is could not be looked up here. The proxy
#                      answers 403 for every form: @v/list, tags, commits, pseudo-versions)
#   KDR_PREFLIGHT_NET  the /30 used for the namespace's veth pair (default 10.254.25.0/30, host end .1)
#   KDR_PREFLIGHT_IP   the private address put on lo that the container must reach (default 10.254.26.1)
set -uo pipefail

CONCOURSE_COMMIT=${CONCOURSE_COMMIT:-dfb625f9044a2c512b4ed4af604ee8cca3b9ac51}
net=${KDR_PREFLIGHT_NET:-10.254.25.0/30}
base=${net%.*/*}
host_ip=$base.$((${net##*.} + 1))
netns_ip=$base.$((${net##*.} + 2))
node_ip=${KDR_PREFLIGHT_IP:-10.254.26.1}
tag=kdrpf$$
work=$(mktemp -d "${TMPDIR:-/tmp}/kdr-concourse-preflight.XXXXXX")
failed=0
pids=()

log() { printf '[concourse-preflight] %s\n' "$*" >&2; }
verdict() { # name ok|FAIL detail
  printf '%-17s %-4s %s\n' "$1" "$2" "$3"
  [[ $2 == ok ]] || failed=1
}
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  ip addr del "$node_ip/32" dev lo 2>/dev/null
  ip link del "${tag}h" 2>/dev/null
  ip netns del "$tag" 2>/dev/null
  umount "$work/ov/m" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The Go module proxy, with the go command's own client.
proxy_check() { # name module@version
  local out
  if out=$(cd "$work" && timeout 120 go list -m -json "$2" 2>&1); then
    verdict "$1" ok "$2 -> $(sed -nE 's/^\s*"Version": "([^"]+)".*/\1/p' <<<"$out" | head -n1)"
  else
    verdict "$1" FAIL "go list -m $2: $(tr '\n' ' ' <<<"$out" | tr -s ' ' | cut -c1-300)"
  fi
}
proxy_check concourse-module "github.com/concourse/concourse@$CONCOURSE_COMMIT"
proxy_check registry-image github.com/concourse/registry-image-resource@latest

# Debian's pieces.
missing=()
for tool in containerd ctr runc docker-registry busybox curl openssl; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[[ -x /usr/lib/cni/bridge ]] || missing+=(cni)
if ((${#missing[@]})); then
  log "installing Debian packages for: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 -qq update >&2
  apt-get -o DPkg::Lock::Timeout=600 -qq install -y --no-install-recommends containerd runc \
    containernetworking-plugins docker-registry busybox-static curl openssl iproute2 >&2
fi

# containerd + runc: a busybox rootfs in a namespace of our own reaches a server on a private address of this machine.
mkdir -p "$work/rootfs/bin" "$work/www" && cp "$(command -v busybox)" "$work/rootfs/bin/"
ln -s busybox "$work/rootfs/bin/sh" && ln -s busybox "$work/rootfs/bin/nc"
echo "reached-$tag" >"$work/www/index.html"
cat >"$work/containerd.toml" <<EOF
version = 2
root = "$work/containerd/root"
state = "$work/containerd/state"
[grpc]
  address = "$work/containerd.sock"
EOF
containerd --config "$work/containerd.toml" >"$work/containerd.log" 2>&1 &
pids+=($!)
ctd_out=
for _ in $(seq 100); do ctr -a "$work/containerd.sock" version >/dev/null 2>&1 && break; sleep 0.1; done
if ! ctr -a "$work/containerd.sock" version >/dev/null 2>&1; then
  verdict containerd FAIL "containerd did not answer: $(tail -n1 "$work/containerd.log")"
elif ! { ip netns add "$tag" && ip link add "${tag}h" type veth peer name "${tag}c" &&
  ip link set "${tag}c" netns "$tag" &&
  ip addr add "$host_ip/30" dev "${tag}h" && ip link set "${tag}h" up && ip -n "$tag" link set lo up &&
  ip -n "$tag" addr add "$netns_ip/30" dev "${tag}c" && ip -n "$tag" link set "${tag}c" up &&
  ip -n "$tag" route add default via "$host_ip" && ip addr add "$node_ip/32" dev lo; } 2>"$work/net.err"; then
  verdict containerd FAIL "network namespace: $(tr '\n' ' ' <"$work/net.err")"
else
  (cd "$work/www" && exec python3 -m http.server 0 --bind "$node_ip" >"$work/www.log" 2>&1) &
  pids+=($!)
  port=
  for _ in $(seq 50); do
    port=$(sed -nE 's/.* port ([0-9]+) .*/\1/p' "$work/www.log" | head -n1)
    [[ -n $port ]] && break
    sleep 0.1
  done
  ctd_out=$(timeout 60 ctr -a "$work/containerd.sock" run --rm --with-ns "network:/var/run/netns/$tag" \
    --rootfs "$work/rootfs" "$tag" /bin/sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc $node_ip $port" 2>&1)
  if grep -q "reached-$tag" <<<"$ctd_out"; then
    verdict containerd ok "containerd $(containerd --version | awk '{print $3}'), \
runc $(runc --version | awk 'NR==1 {print $3}'); container in netns $netns_ip reached $node_ip:$port (address on lo)"
  else
    verdict containerd FAIL "ctr run: $(tr '\n' ' ' <<<"$ctd_out" | cut -c1-300)"
  fi
fi

# overlay, as baggageclaim's overlay driver mounts it.
mkdir -p "$work/ov/"{l,u,w,m} && echo x >"$work/ov/l/f"
if out=$(mount -t overlay overlay -o "lowerdir=$work/ov/l,upperdir=$work/ov/u,workdir=$work/ov/w" "$work/ov/m" 2>&1) &&
  [[ $(cat "$work/ov/m/f") == x ]]; then
  verdict overlay ok "overlay mount works"
  umount "$work/ov/m"
else
  verdict overlay FAIL "mount -t overlay: $out"
fi

# docker-registry on loopback.
reg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$reg_port
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
reg_ok=
for _ in $(seq 50); do
  curl -fsS "http://127.0.0.1:$reg_port/v2/" >/dev/null 2>&1 && { reg_ok=1; break; }
  sleep 0.1
done
if [[ -n $reg_ok ]]; then
  verdict registry ok "docker-registry $(docker-registry --version | awk '{print $3}') serves /v2/ \
on 127.0.0.1:$reg_port"
else
  verdict registry FAIL "docker-registry: $(tail -n1 "$work/registry.log")"
fi

# PostgreSQL (the web node's database) on a unix socket; as the postgres user when run as root.
pg_bin=$(dirname "$(readlink -f "$(command -v postgres || echo /usr/lib/postgresql/15/bin/postgres)")")
as_pg=()
[[ $(id -u) == 0 ]] && as_pg=(runuser -u postgres --)
mkdir -p "$work/pg" && { [[ $(id -u) != 0 ]] || { chmod 711 "$work" && chown postgres "$work/pg"; }; }
if [[ -x $pg_bin/initdb ]] && "${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" -A trust >"$work/pg.log" 2>&1 &&
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -o "-k $work/pg -c listen_addresses=''" -w start \
    >>"$work/pg.log" 2>&1; then
  out=$("${as_pg[@]}" psql -h "$work/pg" -d postgres -tAc 'select version()' 2>&1)
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -m fast -w stop >>"$work/pg.log" 2>&1
  verdict postgres ok "$(cut -d' ' -f1-2 <<<"$out")"
else
  verdict postgres FAIL "postgres: $(tail -n1 "$work/pg.log" 2>/dev/null)"
fi

# Our image the way a worker meets it: pushed to the registry, fetched back by digest and unpacked into a rootfs with
# go-containerregistry (the library the registry-image resource type is built on), its image config's env applied,
# and /opt/resource/check run by containerd in the network namespace, against the private address on lo.
image=${IMAGE_NAME:-localhost/kubernetes-deploy-resource:dev}
tools_dir=${KDR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubernetes-deploy-resource}/concourse-tools
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
crane=$tools_dir/crane-$(sha256sum "$here/tools/go.sum" | cut -c1-12)
if ! command -v skopeo >/dev/null 2>&1 || ! podman --storage-driver overlay image exists "$image" 2>/dev/null; then
  verdict resource-image FAIL "no $image in local container storage: npm run image:build first"
elif [[ -z $reg_ok || -z $ctd_out ]]; then
  verdict resource-image FAIL 'needs the registry and containerd pieces'
elif ! { [[ -x $crane ]] || { mkdir -p "$tools_dir" &&
  (cd "$here/tools" && go build -trimpath -o "$crane.tmp" github.com/google/go-containerregistry/cmd/crane) &&
  mv "$crane.tmp" "$crane"; }; } >"$work/crane-build.log" 2>&1; then
  verdict resource-image FAIL "building crane: $(tail -n1 "$work/crane-build.log")"
else
  repo=127.0.0.1:$reg_port/kubernetes-deploy-resource
  storage=containers-storage:[overlay@/var/lib/containers/storage]
  if ! out=$(skopeo copy --quiet --dest-tls-verify=false "$storage$image" "docker://$repo:dev" 2>&1) ||
    ! digest=$("$crane" digest --insecure "$repo:dev" 2>&1); then
    verdict resource-image FAIL "push/digest: $(tr '\n' ' ' <<<"$out ${digest:-}" | cut -c1-300)"
  elif ! mkdir -p "$work/image-rootfs" ||
    ! "$crane" export --insecure "$repo@$digest" - 2>"$work/export.err" |
    tar -x -C "$work/image-rootfs" 2>>"$work/export.err"; then
    verdict resource-image FAIL "export $repo@$digest: $(tail -n1 "$work/export.err")"
  else
    env_args=()
    while IFS= read -r e; do [[ -n $e ]] && env_args+=(--env "$e"); done < <(
      "$crane" config --insecure "$repo@$digest" |
        python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin).get("config",{}).get("Env") or []))')
    scripts_ok=1
    for s in check in out; do [[ -x $work/image-rootfs/opt/resource/$s ]] || scripts_ok=; done
    # A stand-in API server on the private address: TLS with a certificate for that IP (SAN), answering every request
    # 401 with a Kubernetes Status, so check must verify the CA and SAN, send its request and report the answer.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=preflight \
      -addext "subjectAltName=IP:$node_ip" -keyout "$work/api.key" -out "$work/api.crt" >/dev/null 2>&1
    python3 - "$node_ip" "$work/api.crt" "$work/api.key" >"$work/api.log" 2>&1 <<'EOF' &
import http.server, json, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Unauthorized",
                           "message": "preflight stand-in: Unauthorized", "code": 401}).encode()
        self.send_response(401); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET
server = http.server.ThreadingHTTPServer((sys.argv[1], 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(sys.argv[2], sys.argv[3])
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("port", server.server_address[1], flush=True)
server.serve_forever()
EOF
    pids+=($!)
    api_port=
    for _ in $(seq 50); do
      api_port=$(sed -nE 's/^port ([0-9]+)$/\1/p' "$work/api.log")
      [[ -n $api_port ]] && break
      sleep 0.1
    done
    ca=$(base64 -w0 "$work/api.crt")
    request='{"source":{"cluster_url":"https://'$node_ip:$api_port'","cluster_ca":"'$ca'","token":"preflight",'
    request+='"app":"web","request_timeout":"5s"}}'
    # The request goes in through a file: `ctr run` forwards stdin but never closes it, and check reads to EOF.
    mkdir -p "$work/request" && printf '%s' "$request" >"$work/request/check.json"
    start=$SECONDS
    run_out=$(timeout 120 ctr -a "$work/containerd.sock" run --rm "${env_args[@]}" --env BUILD_NAME=42.1 \
      --mount "type=bind,src=$work/request,dst=/tmp/request,options=rbind:ro" \
      --with-ns "network:/var/run/netns/$tag" --rootfs "$work/image-rootfs" "${tag}r" \
      /bin/sh -c 'exec /opt/resource/check </tmp/request/check.json' </dev/null 2>&1)
    run_rc=$?
    printf '%s\n' "$run_out" >"$work/check.out"
    if [[ -z $scripts_ok ]]; then
      verdict resource-image FAIL "$repo@$digest has no executable /opt/resource/{check,in,out}"
    elif ((run_rc != 0 && run_rc < 124)) && grep -qi 'unauthorized\|401' <<<"$run_out"; then
      verdict resource-image ok "$repo@${digest:0:19}…: /opt/resource/{check,in,out} there; check ran in containerd \
(netns), verified the stand-in API's CA and IP SAN at $node_ip and reported its 401 in $((SECONDS - start)) s \
(exit $run_rc): $(grep -m1 -i 'unauthorized\|401' <<<"$run_out" | cut -c1-160)"
    else
      verdict resource-image FAIL "check in containerd exited $run_rc: $(tr '\n' ' ' <<<"$run_out" | cut -c1-300)"
    fi
  fi
fi

if ((failed)); then
  log 'not every piece is there: see the FAIL lines'
  exit 1
fi
log 'every piece is there'
