#!/usr/bin/env bash
# Builds etcd, kube-apiserver and kubectl from the Go module proxy into a cache
# directory, once. Later runs find the binaries and return at once.
# Usage: tools/kubelab/build.sh [CACHE_DIR]   (default: $KUBELAB_BIN or ~/.cache/palisade/kubelab)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
k8s_version=v1.37.2
out=${1:-${KUBELAB_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/palisade/kubelab/$k8s_version}}
mkdir -p "$out"
cd "$here"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version \
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37 \
 -X k8s.io/component-base/version.gitTreeState=clean"
build() { # name package
  if [ -x "$out/$1" ]; then return; fi
  echo "kubelab: building $1 into $out (first time only, several minutes)" >&2
  start=$(date +%s)
  go build -trimpath -o "$out/$1.tmp" -ldflags "$ldflags" "$2"
  mv "$out/$1.tmp" "$out/$1"
  echo "kubelab: built $1 in $(( $(date +%s) - start ))s" >&2
}
build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kubectl k8s.io/kubernetes/cmd/kubectl
echo "$out"
