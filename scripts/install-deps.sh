#!/usr/bin/env bash
# Installs the Debian packages dynamo-profiler needs to build and test. Safe to re-run.
set -euo pipefail
PKGS=(cmake g++ make pkg-config
      libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev
      libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev
      python3 python3-yaml python3-jsonschema python3-numpy)
# --with-browser adds headless Chromium for the report screenshot test (CI uses it).
# --with-fuzz adds clang and its libFuzzer/sanitizer runtime for scripts/run_fuzzers.sh (CI uses it).
for arg in "$@"; do
  case "$arg" in
    --with-browser) PKGS+=(chromium) ;;
    --with-fuzz) PKGS+=(clang libclang-rt-dev) ;;
    *) echo "install-deps: unknown option $arg (known: --with-browser --with-fuzz)" >&2; exit 2 ;;
  esac
done
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
