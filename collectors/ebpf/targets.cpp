#include "collectors/ebpf/targets.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>

#include <cerrno>
#include <string>

#include "collectors/ebpf/bpf_util.hpp"
#include "collectors/ebpf/targets.h"
#include "collectors/ebpf/targets.skel.h"

namespace boundwise::ebpf {

namespace {
constexpr std::size_t kBitmapBytes = BW_TARGET_WORDS * sizeof(std::uint64_t);
}

Result<std::unique_ptr<TargetMaps>> TargetMaps::load() {
  route_libbpf_log();
  targets_bpf* skel = targets_bpf__open();
  if (skel == nullptr) return Error{describe_failure("targets: open BPF object", errno)};
  if (int err = targets_bpf__load(skel); err != 0) {
    targets_bpf__destroy(skel);
    return Error{describe_failure("targets: load BPF programs", err)};
  }
  void* bits = ::mmap(nullptr, kBitmapBytes, PROT_READ | PROT_WRITE, MAP_SHARED,
                      bpf_map__fd(skel->maps.bw_target_bits), 0);
  if (bits == MAP_FAILED) {
    int err = errno;
    targets_bpf__destroy(skel);
    return Error{describe_failure("targets: mmap the target bitmap", err)};
  }
  if (int err = targets_bpf__attach(skel); err != 0) {
    ::munmap(bits, kBitmapBytes);
    targets_bpf__destroy(skel);
    return Error{describe_failure("targets: attach to sched_process_fork/exit", err)};
  }
  return std::unique_ptr<TargetMaps>(new TargetMaps(skel, static_cast<std::uint64_t*>(bits)));
}

TargetMaps::TargetMaps(targets_bpf* skel, std::uint64_t* bits) : skel_(skel), bits_(bits) {}

TargetMaps::~TargetMaps() {
  ::munmap(bits_, kBitmapBytes);
  targets_bpf__destroy(skel_);
}

int TargetMaps::reuse_in(bpf_map* bits, bpf_map* workload) const {
  if (int err = bpf_map__reuse_fd(bits, bpf_map__fd(skel_->maps.bw_target_bits)); err != 0)
    return err;
  return bpf_map__reuse_fd(workload, bpf_map__fd(skel_->maps.bw_target_workload));
}

// The kernel's fork program sets bits in the same words: atomic read-modify-writes
// on both sides.
void TargetMaps::mark(int tgid, std::uint32_t wid) {
  auto key = static_cast<std::uint32_t>(tgid);
  bpf_map__update_elem(skel_->maps.bw_target_workload, &key, sizeof key, &wid, sizeof wid, BPF_ANY);
  __atomic_fetch_or(&bits_[(key >> 6) & (BW_TARGET_WORDS - 1)], 1ULL << (key & 63),
                    __ATOMIC_SEQ_CST);
}

void TargetMaps::unmark(int tgid) {
  auto key = static_cast<std::uint32_t>(tgid);
  __atomic_fetch_and(&bits_[(key >> 6) & (BW_TARGET_WORDS - 1)], ~(1ULL << (key & 63)),
                     __ATOMIC_SEQ_CST);
  bpf_map__delete_elem(skel_->maps.bw_target_workload, &key, sizeof key, 0);
}

std::vector<std::pair<int, std::uint32_t>> TargetMaps::targets() const {
  std::vector<std::pair<int, std::uint32_t>> out;
  for_each_entry<std::uint32_t, std::uint32_t>(skel_->maps.bw_target_workload,
                                               [&](std::uint32_t tgid, std::uint32_t wid) {
                                                 out.emplace_back(static_cast<int>(tgid), wid);
                                               });
  return out;
}

std::vector<std::pair<std::string, int>> TargetMaps::programs() const {
  return program_fds(skel_->obj);
}

}  // namespace boundwise::ebpf
