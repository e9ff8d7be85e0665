// TargetMaps: the target bitmap and tgid → workload map every BPF tool shares
// (targets.h), and the fork/exit follower that keeps them current in the kernel
// (targets.bpf.c). The ebpf collector loads it first and hands its map fds to each
// tool's skeleton before that tool loads (reuse_in()).
//
// Not thread-safe; used from the agent's collection thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "classifier/result.hpp"

struct bpf_map;
struct targets_bpf;

namespace boundwise::ebpf {

class TargetMaps {
 public:
  // Loads and attaches the fork/exit follower. Error: why, with a hint.
  static Result<std::unique_ptr<TargetMaps>> load();
  ~TargetMaps();
  TargetMaps(const TargetMaps&) = delete;
  TargetMaps& operator=(const TargetMaps&) = delete;

  // Makes another skeleton's bw_target_bits and bw_target_workload these maps. Call
  // between its open() and load(); returns a negative errno on failure.
  int reuse_in(bpf_map* bits, bpf_map* workload) const;

  // Marks a process as belonging to workload `wid` (1..BW_MAX_WORKLOADS-1).
  void mark(int tgid, std::uint32_t wid);
  void unmark(int tgid);
  // Every targeted process the kernel knows, including forks it followed.
  std::vector<std::pair<int, std::uint32_t>> targets() const;

  // Program names and fds, for run-time stats.
  std::vector<std::pair<std::string, int>> programs() const;

 private:
  TargetMaps(targets_bpf* skel, std::uint64_t* bits);
  targets_bpf* skel_;
  std::uint64_t* bits_;  // the mmapped bitmap, BW_TARGET_WORDS words
};

}  // namespace boundwise::ebpf
