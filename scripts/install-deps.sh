#!/usr/bin/env bash
# Installs the Debian packages dynamo-profiler needs to build and test. Safe to re-run.
set -euo pipefail
PKGS=(cmake g++ make pkg-config
      libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
      libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev
      python3 python3-yaml python3-jsonschema python3-numpy)
# --with-browser adds headless Chromium for the report screenshot test (CI uses it).
if [ "${1:-}" = "--with-browser" ]; then PKGS+=(chromium); fi
missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"
