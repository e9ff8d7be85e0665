#!/usr/bin/env bash
# Builds the boundwise container image from deploy/container/Containerfile with podman
# (or buildah), from the repository's committed tree (git archive HEAD).
#
#   deploy/container/build.sh [--tag NAME] [--base IMAGE] [--jobs N] [--engine podman|buildah]
#
#   --tag     the image's name (default boundwise:VERSION, VERSION from CMakeLists.txt)
#   --base    the Debian 12 image both stages start from (default
#             localhost/boundwise-base:bookworm). When it is that default and missing,
#             it is made here from Debian's packages: mmdebstrap (minbase, bookworm,
#             deb.debian.org) piped into `podman import` / `buildah`; no registry needed.
#             `--base debian:12` pulls Debian's official image instead.
#   --jobs    parallel compile jobs in the build stage (default 2)
#
# The compile runs at nice 19 (the machine stays usable). At the end the image runs
# `boundwise --version`. Needs root, or a rootless podman with subuids for mmdebstrap's
# unshare mode. deploy/README.md, "Container image".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
default_base=localhost/boundwise-base:bookworm
base=$default_base
jobs=2
tag=
engine=
mirror=http://deb.debian.org/debian

die() { echo "build.sh: $*" >&2; exit 1; }
cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT

while [[ $# -gt 0 ]]; do
  case $1 in
    --tag) tag=${2:?--tag needs a value}; shift 2 ;;
    --base) base=${2:?--base needs a value}; shift 2 ;;
    --jobs) jobs=${2:?--jobs needs a value}; shift 2 ;;
    --engine) engine=${2:?--engine needs a value}; shift 2 ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (--help)" ;;
  esac
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs: want a positive integer, got $jobs"

if [[ -z $engine ]]; then
  if command -v podman >/dev/null; then engine=podman
  elif command -v buildah >/dev/null; then engine=buildah
  else die "neither podman nor buildah is installed (apt-get install podman)"; fi
fi
case $engine in podman|buildah) ;; *) die "--engine: podman or buildah, not $engine" ;; esac
command -v "$engine" >/dev/null || die "$engine is not installed"

version=$(sed -n 's/^project(boundwise VERSION \([0-9.]*\).*/\1/p' "$repo/CMakeLists.txt")
[[ -n $version ]] || die "no version in $repo/CMakeLists.txt"
tag=${tag:-boundwise:$version}

# Two things some machines need (this project's VMs need both; deploy/README.md):
#  - crun, podman's runtime on Debian 12, refuses a hybrid cgroup layout (cgroup v1
#    controllers plus a cgroup2 mount that holds controllers): runc runs there.
#  - a root without CAP_SYS_RESOURCE cannot give a container podman's default limits
#    (1048576 open files and processes): ask for what this process holds, processes
#    capped at the kernel's pid_max (what conmon is seen to hold there).
run_args=()
if [[ -n $(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null) ]]; then
  command -v runc >/dev/null ||
    die "hybrid cgroups (/sys/fs/cgroup/unified has controllers): crun refuses them; apt-get install runc"
  run_args+=(--runtime runc)
fi
cap_eff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
if (( (16#$cap_eff >> 24 & 1) == 0 )); then
  nproc=$(ulimit -Hu)
  pid_max=$(cat /proc/sys/kernel/pid_max)
  [[ $nproc == unlimited ]] || (( nproc > pid_max )) && nproc=$pid_max
  run_args+=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$nproc:$nproc")
fi

image_exists() {
  if [[ $engine == podman ]]; then podman image exists "$1"
  else buildah inspect --type image "$1" >/dev/null 2>&1; fi
}

# The base: a Debian 12 minbase root filesystem as an image, from Debian's packages.
if ! image_exists "$base"; then
  if [[ $base != "$default_base" ]]; then
    echo "build.sh: $base is not local; the build will pull it" >&2
  else
    command -v mmdebstrap >/dev/null ||
      die "$base is missing and mmdebstrap is not installed (apt-get install mmdebstrap)"
    echo "build.sh: making $base with mmdebstrap from $mirror" >&2
    sources=("deb $mirror bookworm main" "deb $mirror bookworm-updates main"
             "deb http://deb.debian.org/debian-security bookworm-security main")
    if [[ $engine == podman ]]; then
      nice -n 19 mmdebstrap --variant=minbase --format=tar bookworm - "${sources[@]}" |
        podman import --change 'CMD ["/bin/bash"]' - "$base"
    else
      tarball=$(mktemp --suffix=.tar)
      cleanup+=("$tarball")
      nice -n 19 mmdebstrap --variant=minbase --format=tar bookworm "$tarball" "${sources[@]}"
      container=$(buildah from scratch)
      buildah add "$container" "$tarball" /
      buildah config --cmd /bin/bash "$container"
      buildah commit --rm "$container" "$base"
    fi
  fi
fi

# The context: the committed tree, not the working tree (no build directories, no
# uncommitted edits), and its commit for `boundwise --version`.
git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 ||
  die "$repo is not a git checkout: the image is built from a commit"
commit=$(git -C "$repo" rev-parse --short=12 HEAD)
if ! git -C "$repo" diff --quiet HEAD --; then
  echo "build.sh: uncommitted changes are not in the image (it builds $commit)" >&2
fi
context=$(mktemp -d)
cleanup+=("$context")
git -C "$repo" archive --format=tar HEAD | tar -x -C "$context"

args=(--file "$context/deploy/container/Containerfile" --tag "$tag"
      --build-arg "BASE=$base" --build-arg "BOUNDWISE_COMMIT=$commit"
      --build-arg "JOBS=$jobs" --build-arg "BOUNDWISE_VERSION=$version")
echo "build.sh: $engine build $tag from $commit on $base" >&2
if [[ $engine == podman ]]; then
  nice -n 19 podman build "${run_args[@]}" "${args[@]}" "$context"
  podman run --rm "${run_args[@]}" "$tag" --version
else
  nice -n 19 buildah build "${run_args[@]}" "${args[@]}" "$context"
  container=$(buildah from "$tag")
  buildah run "${run_args[@]}" "$container" -- /usr/bin/boundwise --version
  buildah rm "$container" >/dev/null
fi
echo "build.sh: built $tag" >&2
