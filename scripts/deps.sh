#!/usr/bin/env bash
# Installs what the build and tests need beyond Go itself: the Go modules,
# and Debian's postgresql package (the store tests start a real server).
set -euo pipefail
cd "$(dirname "$0")/.."
go mod download
(cd tools/kubelab && go mod download)

have_postgres() {
  command -v initdb >/dev/null 2>&1 && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
if ! have_postgres; then
  echo "deps: installing Debian's postgresql package" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
