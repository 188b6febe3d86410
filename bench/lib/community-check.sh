#!/usr/bin/env bash
# A fixture of our own (not the community resource's code) that does what the seed's community resource's `check` does:
# jq reads the request from stdin, the three base64 certificates are decoded to files, one cold
# `kubectl get deployment -o json` with them, and jq extracts the image as the version. It is the baseline for
# `assets/check` in bench/check-start.ts. Files live in a private temp dir removed on exit.
set -euo pipefail
request=$(cat)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
jq -r '.source.cluster_ca' <<<"$request" | base64 -d >"$dir/ca.pem"
jq -r '.source.admin_cert' <<<"$request" | base64 -d >"$dir/cert.pem"
jq -r '.source.admin_key' <<<"$request" | base64 -d >"$dir/key.pem"
server=$(jq -r '.source.cluster_url' <<<"$request")
namespace=$(jq -r '.source.namespace' <<<"$request")
app=$(jq -r '.source.app' <<<"$request")
kubectl --server "$server" --certificate-authority "$dir/ca.pem" --client-certificate "$dir/cert.pem" \
  --client-key "$dir/key.pem" --cache-dir "$dir/cache" -n "$namespace" get deployment "$app" -o json \
  >"$dir/deployment.json"
jq -c '[{image: .spec.template.spec.containers[0].image}]' "$dir/deployment.json"
