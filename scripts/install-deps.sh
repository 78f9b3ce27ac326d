#!/usr/bin/env bash
# Installs the Debian 12 packages ombud needs to build, test and run.
# This is the one list; the Makefile calls it before every build.
set -euo pipefail

packages=(
  build-essential cmake make pkg-config
  clang libclang-rt-14-dev            # libFuzzer + sanitizer runtimes for the fuzz targets
  clang-format clang-tidy
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libyaml-cpp-dev
  libsoci-dev libsqlite3-dev libpq-dev
  libspdlog-dev libfmt-dev
  libhowardhinnant-date-dev tzdata
  libssl-dev
  libcli11-dev
  libjemalloc-dev                     # the allocator every executable links (decision 0008)
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-yaml python3-jsonschema   # JSON Schema check of the shipped workflows
  postgresql postgresql-client        # PostgreSQL 15 server the SQL store tests start themselves
  wrk                                 # HTTP load for bench/run_http_bench.sh
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
