#!/usr/bin/env bash
# Installs what the build and tests need beyond Go itself: the Go modules,
# Debian's postgresql package (the store tests start a real server), and the
# pinned npm package that ships the CycloneDX JSON schemas (the SBOM tests
# validate against them).
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

# tools/cyclonedx pins @cyclonedx/cyclonedx-library for its schemas. npm ci
# only when the installed tree is older than the lock file, so repeated runs
# cost nothing; --ignore-scripts because nothing there needs to run.
if ! command -v npm >/dev/null 2>&1; then
  echo "deps: installing Debian's nodejs and npm packages" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
cdx_stamp=tools/cyclonedx/node_modules/.package-lock.json
if [ ! -f "$cdx_stamp" ] || [ tools/cyclonedx/package-lock.json -nt "$cdx_stamp" ]; then
  npm ci --prefix tools/cyclonedx --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
fi
