#!/usr/bin/env bash
# Long libFuzzer runs, by hand or from a nightly job (CI runs each target for 10 s).
#   tests/fuzz/long-run.sh                  every target, 1 hour each
#   SECONDS_EACH=600 tests/fuzz/long-run.sh http config
# Needs clang-14 (deploy/install-deps.sh --test). New inputs that reach new coverage
# are left in build-fuzz/long/<target>/; copy the interesting ones into
# tests/fuzz/corpus/<target>/ and commit them. A crash leaves crash-* in the cwd.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${SECONDS_EACH:-3600}
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DBOUNDWISE_FUZZ=ON \
  -DBOUNDWISE_ONLY_PURE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)"
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(cd build-fuzz/tests/fuzz && ls ./*_fuzz | sed 's|^\./||; s|_fuzz$||')
fi
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/long/$t"
  echo "== $t: ${seconds} s"
  "build-fuzz/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "build-fuzz/long/$t" "tests/fuzz/corpus/$t"
done
