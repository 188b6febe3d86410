//go:build tools

// Package tools pins the Go programs scripts/concourse/ builds (go build ./... -o from this module, cached under
// ~/.cache/kubernetes-deploy-resource/): crane, go-containerregistry's registry client, the library the
// registry-image resource type fetches images with.
package tools

import _ "github.com/google/go-containerregistry/cmd/crane"
