#!/usr/bin/env bash
# Runs clang-tidy-14 with the repository's .clang-tidy (every warning is an error) on
# the C++ files changed by the last commits, as tests/run-all.sh does after the build.
#   tests/clang-tidy.sh              files changed since HEAD~${TIDY_COMMITS:-10}
#                                    (committed or not); every file when the history is
#                                    shorter (a shallow clone too)
#   tests/clang-tidy.sh --all        every file (after changing a .clang-tidy)
#   BUILD_DIR=build-x tests/clang-tidy.sh   another build's compile_commands.json
# A changed header brings in the .cpp beside it (the header's own code is checked
# through the .cpp files that include it). Only files the build compiles are checked:
# not BPF programs (.bpf.c), C files or generated files; nor those listed in
# tests/clang-tidy.todo (known findings, to fix). Exits non-zero on a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
jobs=${JOBS:-2}
db="$build/compile_commands.json"
if [[ ! -f $db ]]; then
  echo "clang-tidy.sh: no $db (configure with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)" >&2
  exit 1
fi

# 10: a commit here is often a merge of a whole branch. Measured (2 cores, 5.7 s of CPU
# per file on average): HEAD~10 is ~60 files, ~2.7 min; HEAD~20 ~80 files, ~3.7 min.
commits=${TIDY_COMMITS:-10}
if [[ ${1:-} != --all ]] && base=$(git rev-parse -q --verify "HEAD~${commits}^{commit}"); then
  # Against the work tree, so that uncommitted changes are checked too.
  mapfile -t changed < <(git diff --name-only --diff-filter=d "$base" -- '*.cpp' '*.hpp')
  scope="changed since HEAD~${commits}"
else
  mapfile -t changed < <(git ls-files '*.cpp' '*.hpp')
  scope="all"
fi

# Changed files → .cpp files to run on: a header maps to the .cpp beside it.
declare -A wanted=()
for f in "${changed[@]}"; do
  [[ $f == *.hpp ]] && f=${f%.hpp}.cpp
  [[ -f $f ]] && wanted[$f]=1
done

# The build's compile commands, one per file: the fuzz harnesses are compiled once per
# fuzz target with only a -D changing, and clang-tidy would check every one of them.
tidy_db=$(mktemp -d)
trap 'rm -rf "$tidy_db"' EXIT
dedup='
import json, sys
seen, out = set(), []
for entry in json.load(open(sys.argv[1])):
    if entry["file"] not in seen:
        seen.add(entry["file"])
        out.append(entry)
        print(entry["file"])
json.dump(out, open(sys.argv[2], "w"))
'
declare -A compiled=()
while IFS= read -r f; do compiled[$f]=1; done < <(python3 -c "$dedup" "$db" "$tidy_db/compile_commands.json")

# Files with known findings still to fix (tests/clang-tidy.todo says which and why).
declare -A todo=()
if [[ -f tests/clang-tidy.todo ]]; then
  while read -r f _; do
    [[ -n $f && $f != \#* ]] && todo[$f]=1
  done < tests/clang-tidy.todo
fi

files=()
skipped=0
for f in "${!wanted[@]}"; do
  [[ -z ${compiled[$PWD/$f]:-} ]] && continue
  if [[ -n ${todo[$f]:-} ]]; then
    skipped=$((skipped + 1))
    continue
  fi
  files+=("$f")
done
((skipped == 0)) || echo "clang-tidy: ${skipped} file(s) skipped, listed in tests/clang-tidy.todo"
if ((${#files[@]} == 0)); then
  echo "clang-tidy: no compiled .cpp file ${scope}"
  exit 0
fi
mapfile -t files < <(printf '%s\n' "${files[@]}" | sort)
echo "clang-tidy: ${#files[@]} file(s), ${scope}, ${jobs} at a time"
# --quiet drops the suppressed-warnings notes; one file per process so that a file's
# findings print together; the "N warnings generated." lines (system headers) go.
printf '%s\n' "${files[@]}" |
  xargs -P "$jobs" -n 1 clang-tidy-14 -p "$tidy_db" --quiet 2>&1 |
  { grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' || true; }
