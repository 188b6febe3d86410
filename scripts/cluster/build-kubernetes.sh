#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager v1.20.2 from Debian bookworm's `kubernetes`
# source package (the whole Kubernetes tree with vendored Go deps) and caches the binaries in
# ~/.cache/kubernetes-deploy-resource/v1.20.2/. A no-op when both binaries are already cached.
#
# Only Debian's apt repositories are needed: no Docker, no Go module proxy, no GitHub.
# /etc/apt is never touched: the deb-src entry lives in a private APT_CONFIG under the cache dir.
# The ~1.8 GB build tree is deleted after a successful build; the downloaded source package
# (~34 MB) is kept so a rebuild needs no network.
#
# One change to the tree: its vendored github.com/modern-go/reflect2 v1.0.1 crashes under Go >= 1.18
# (nil-pointer panic in json-iterator as soon as a JSON body with a map, e.g. labels, is decoded:
# every such request fails with "socket hang up"). It is replaced by Debian's
# golang-github-modern-go-reflect2-dev (v1.0.2, the upstream fix, API-compatible).
set -euo pipefail

KUBE_VERSION=v1.20.2
DEB_SOURCE_VERSION=1.20.5+really1.20.2 # upstream part of the Debian version; the tree is v1.20.2
CACHE_ROOT=${KDR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubernetes-deploy-resource}
BIN_DIR=$CACHE_ROOT/$KUBE_VERSION
BINARIES=(kube-apiserver kube-controller-manager)
# Bumped whenever the way the binaries are built changes, so stale cached binaries get rebuilt.
RECIPE="debian-source $DEB_SOURCE_VERSION; reflect2 1.0.2 from Debian"

log() { printf '[cluster] %s\n' "$*" >&2; }

have_all() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x $BIN_DIR/$b ]] || return 1; done
  [[ $(cat "$BIN_DIR/RECIPE" 2>/dev/null) == "$RECIPE" ]]
}

have_all && exit 0

# shellcheck source=scripts/cluster/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ensure_packages golang-go rsync jq make dpkg-dev golang-github-modern-go-reflect2-dev

mkdir -p "$CACHE_ROOT"
# Serialize concurrent builds (e.g. two test runs starting at once); the loser reuses the result.
exec 9>"$CACHE_ROOT/build.lock"
flock 9
have_all && exit 0

SRC_DIR=$CACHE_ROOT/source  # the downloaded source package (.dsc, .orig.tar.gz, .debian.tar.xz)
BUILD_DIR=$CACHE_ROOT/build # the unpacked tree; removed after a successful build
APT_DIR=$CACHE_ROOT/apt
mkdir -p "$SRC_DIR"

# Debian mirror: reuse the one this machine's apt uses, so a machine behind a local mirror works too.
debian_mirror() {
  local uri
  uri=$(grep -hsE '^\s*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' |
    grep -E '/debian/?$' | head -n1 || true)
  if [[ -z $uri ]]; then
    uri=$(grep -hsE '^\s*deb\s' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -E 's/\[[^]]*\]//' | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

if ! ls "$SRC_DIR"/kubernetes_"$DEB_SOURCE_VERSION"-*.dsc >/dev/null 2>&1; then
  log "fetching Debian source package kubernetes ($DEB_SOURCE_VERSION, ~34 MB)"
  mkdir -p "$APT_DIR/sources.list.d" "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
  cat >"$APT_DIR/sources.list.d/bookworm-src.sources" <<SOURCES
Types: deb-src
URIs: $(debian_mirror)
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  cat >"$APT_DIR/apt.conf" <<CONF
Dir::Etc::sourcelist "/dev/null";
Dir::Etc::sourceparts "$APT_DIR/sources.list.d";
Dir::State::Lists "$APT_DIR/lists";
Dir::Cache "$APT_DIR/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Sandbox::User "root";
CONF
  export APT_CONFIG=$APT_DIR/apt.conf
  apt-get update -qq >&2
  (cd "$SRC_DIR" && apt-get source --download-only -qq "kubernetes=$(
    apt-cache showsrc kubernetes | awk '/^Version:/{print $2}' | grep -F "$DEB_SOURCE_VERSION" | head -n1
  )" >&2)
  unset APT_CONFIG
  rm -rf "$APT_DIR" # its package lists (~20 MB) are only needed for this download
fi

rm -rf "$BUILD_DIR"
mkdir -p "$BUILD_DIR"
log "unpacking source tree to $BUILD_DIR"
dpkg-source -x "$(ls "$SRC_DIR"/kubernetes_"$DEB_SOURCE_VERSION"-*.dsc | head -n1)" "$BUILD_DIR/kubernetes" >/dev/null 2>&1 ||
  dpkg-source -x "$(ls "$SRC_DIR"/kubernetes_"$DEB_SOURCE_VERSION"-*.dsc | head -n1)" "$BUILD_DIR/kubernetes" >&2

TREE=$BUILD_DIR/kubernetes
REFLECT2_VENDOR=$TREE/vendor/github.com/modern-go/reflect2
REFLECT2_DEBIAN=/usr/share/gocode/src/github.com/modern-go/reflect2
rm -f "$REFLECT2_VENDOR"/*.go "$REFLECT2_VENDOR"/*.s
cp "$REFLECT2_DEBIAN"/*.go "$REFLECT2_DEBIAN"/*.s "$REFLECT2_VENDOR"/
rm -f "$REFLECT2_VENDOR"/*_test.go
# The GOPATH layout debian/rules uses: Kubernetes' code generators expect k8s.io/kubernetes in GOPATH.
mkdir -p "$TREE/.go/src/k8s.io"
ln -sfn ../../.. "$TREE/.go/src/k8s.io/kubernetes"

BUILD_LOG=$CACHE_ROOT/build.log
start=$(date +%s)
log "building kube-apiserver $KUBE_VERSION from Debian source (about 5-7 minutes on first use)…"
log "  (then kube-controller-manager, about 1 minute; full build output: $BUILD_LOG)"
build_one() {
  # CGO_ENABLED=0: static binaries, no C toolchain needed. GOPROXY=off: everything is vendored.
  # HOME points into the tree so nothing is written to the real home (as debian/rules does).
  (cd "$TREE" && env GOPATH="$TREE/.go" GOCACHE="$BUILD_DIR/gocache" HOME="$BUILD_DIR/home" \
    CGO_ENABLED=0 GOPROXY=off GOFLAGS=-mod=vendor PATH="/usr/lib/go/bin:$PATH" \
    make WHAT="cmd/$1") >>"$BUILD_LOG" 2>&1 || {
    log "building $1 failed; last lines of $BUILD_LOG:"
    tail -n 40 "$BUILD_LOG" >&2
    exit 1
  }
  log "built $1 in $(($(date +%s) - start)) s"
}
: >"$BUILD_LOG"
build_one kube-apiserver
build_one kube-controller-manager

mkdir -p "$BIN_DIR"
rm -f "$BIN_DIR/RECIPE"
for b in "${BINARIES[@]}"; do
  install -m 0755 "$TREE/_output/bin/$b" "$BIN_DIR/$b.tmp"
  mv -f "$BIN_DIR/$b.tmp" "$BIN_DIR/$b" # atomic: a half-copied binary is never picked up
done
"$BIN_DIR/kube-apiserver" --version >&2
echo "$RECIPE" >"$BIN_DIR/RECIPE"
rm -rf "$BUILD_DIR" # ~1.8 GB; the .dsc/tarballs stay in $SRC_DIR for an offline rebuild
log "kubernetes $KUBE_VERSION binaries cached in $BIN_DIR ($(($(date +%s) - start)) s)"
