#!/usr/bin/env bash
# Installs what boundwise needs on Debian 12, from Debian's packages only.
#   deploy/install-deps.sh          build and run dependencies (and what
#                                   `cpack -G DEB` runs: file, dpkg-shlibdeps)
#   deploy/install-deps.sh --test   plus what the test suite drives for real
#                                   (PostgreSQL, Prometheus, Redis, stress-ng, wrk,
#                                   chromium for the web page, lintian for
#                                   the package, ...)
# Needs root (apt-get). Safe to run again: apt-get skips what is installed.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps.sh: run as root (apt-get install needs it)" >&2
  exit 1
fi

build_packages=(
  build-essential cmake pkg-config
  libboost-dev libspdlog-dev libfmt-dev prometheus-cpp-dev libyaml-cpp-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev
  libssl-dev libcrypt-dev libcap-dev libsystemd-dev
  libunwind-dev libbpf-dev libelf-dev bpftool clang-14 llvm-14 linux-perf
  file dpkg-dev
)
test_packages=(
  clang-format-14 clang-tidy-14 libclang-rt-14-dev
  python3 python3-psycopg2 python3-flask gunicorn
  postgresql postgresql-contrib prometheus redis-server stress-ng wrk curl
  python3-yaml python3-jsonschema systemd adduser dpkg-dev chromium
  lintian man-db
)

packages=("${build_packages[@]}")
if [[ ${1:-} == --test ]]; then
  packages+=("${test_packages[@]}")
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
