#!/usr/bin/env bash
# Installs, builds and runs every test of boundwise: the command README.md gives and
# .ci/run calls. After the build, clang-tidy on the changed files. Tiers (ctest labels):
# unit, fuzz (corpus replay), integration, e2e, soak;
# then the unit tests again under ASan+UBSan, and a short libFuzzer run of every fuzz
# target built with clang. Exits non-zero if anything fails.
#   tests/run-all.sh              everything
#   SKIP_INSTALL=1 tests/run-all.sh   skip apt-get (dependencies already present)
#   FUZZ_SECONDS=60 tests/run-all.sh  longer fuzz runs (default 5 s per target)
#   TIDY_COMMITS=5 tests/run-all.sh   clang-tidy on the files changed by the last 5
#                                     commits (default 10; tests/clang-tidy.sh --all: all)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-2}

# Each step's heading gives the minutes and seconds since the run began, so a slow
# step shows in the log (CI's budget is 45 minutes).
step() { printf '\n==== [%d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

# Runs ctest, keeping its summary so the run ends with one total.
passed=0
failed=0
run_ctest() {
  local log status=0
  log=$(mktemp)
  ctest "$@" 2>&1 | tee "$log" || status=$?
  local line
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1 || true)
  if [[ $line =~ ([0-9]+)\ tests?\ failed\ out\ of\ ([0-9]+) ]]; then
    failed=$((failed + BASH_REMATCH[1]))
    passed=$((passed + BASH_REMATCH[2] - BASH_REMATCH[1]))
  fi
  rm -f "$log"
  if ((status != 0)); then
    failed_steps+=("ctest $*")
  fi
  return 0
}
failed_steps=()

if [[ -z ${SKIP_INSTALL:-} ]]; then
  step "install dependencies"
  deploy/install-deps.sh --test
fi

step "format check (clang-format-14)"
mapfile -t sources < <(git ls-files '*.cpp' '*.hpp' '*.h' | grep -v '\.bpf\.' || true)
if ((${#sources[@]})); then
  clang-format-14 --dry-run -Werror "${sources[@]}"
fi

step "build (RelWithDebInfo, warnings are errors)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOUNDWISE_WERROR=ON \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
cmake --build build -j"$jobs"

step "clang-tidy-14 on the .cpp files changed since HEAD~${TIDY_COMMITS:-10} (.clang-tidy)"
JOBS=$jobs tests/clang-tidy.sh || failed_steps+=("clang-tidy")

step "unit + fuzz-replay tests"
run_ctest --test-dir build -L 'unit|fuzz' --output-on-failure -j"$jobs"

step "integration + e2e tests (real processes, PostgreSQL, Prometheus)"
run_ctest --test-dir build -L 'integration|e2e' --output-on-failure

step "churn soak (60 s; tests/soak/churn_soak.py --seconds 600 for the full one)"
run_ctest --test-dir build -L soak --output-on-failure

step "deploy tests (systemd unit, Prometheus rules, Grafana PromQL, Kubernetes, .deb)"
run_ctest --test-dir build -L deploy --output-on-failure

step "unit tests under ASan+UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBOUNDWISE_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs" --target classifier_test config_test collectors_test python_test daemon_test \
  collectors_integration_test python_integration_test daemon_integration_test
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run_ctest --test-dir build-asan -L 'unit|native' --output-on-failure -j"$jobs"

step "daemon unit tests under ThreadSanitizer (HTTP thread and collection thread)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DBOUNDWISE_TSAN=ON -DBOUNDWISE_WERROR=ON >/dev/null
cmake --build build-tsan -j"$jobs" --target daemon_test daemon_integration_test
TSAN_OPTIONS=halt_on_error=1 run_ctest --test-dir build-tsan -L 'unit|native' \
  -R '^(integration\.native\.)?(HttpServer|Agent|Endpoints|HttpHandler|Authenticator)' \
  --output-on-failure -j"$jobs"

step "libFuzzer runs (clang-14, ${FUZZ_SECONDS:-5} s per target)"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DBOUNDWISE_FUZZ=ON -DBOUNDWISE_ONLY_PURE=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$jobs"
# One libFuzzer process per core: each run is bounded by time, not by work.
BOUNDWISE_FUZZ_SECONDS=${FUZZ_SECONDS:-5} run_ctest --test-dir build-fuzz -L fuzz --output-on-failure \
  -j"$jobs"

step "summary"
if ((${#failed_steps[@]})); then
  printf 'failed: %s\n' "${failed_steps[@]}"
fi
echo "${passed} passed, ${failed} failed"
((${#failed_steps[@]} == 0))
