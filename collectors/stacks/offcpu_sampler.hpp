// Off-CPU stacks: where the targets' blocked threads wait, read without perf or eBPF.
// A thread asleep in the kernel keeps its user stack still: /proc/TID/syscall gives
// its syscall with its arguments, stack pointer and PC; process_vm_readv copies the top
// `stack_bytes` of its stack; and the unwinding thread unwinds that copy like a perf
// sample (build_sample, perf_sample.hpp). The wait is attributed with the procfs
// collector's own rules (procfs/attribution.hpp), so a stack carries the reason the
// classifier counts (gil, lock, net with its endpoint, disk, ipc, sleep, other) as its
// root frame (reason_frame, classifier/profile.hpp), a net wait's endpoint named as
// assemble() names dependencies (a poll over one socket is a wait on that socket, as
// in the procfs collector). Threads waiting for work (idle)
// and running threads are not copied.
//
// Bounded: a round visits at most `max_threads` threads, taking the targets' threads in
// turn (round-robin), and weighs each stack by the round's interval times the threads
// it left out (so a stack's weight is the blocked time it stands for, in
// milliseconds). A stack is dropped ("thread_ran") when the thread's schedstat changed
// between the first read and the end of the copy: it ran, so the copy may mix two
// waits. Futex waits are lock when two or more visited threads of a process wait on the
// same word, else idle (the procfs collector's rule, over the visited threads).
//
// Used on the collection thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "classifier/endpoint.hpp"
#include "collectors/targets.hpp"

namespace boundwise {
namespace process {
class ProcessImages;
}

namespace stacks {

struct OffCpuStack {
  ProcessKey key;
  std::string workload;
  std::string reason_frame;       // the root frame: "[ipc]", "[net postgres 10.0.0.5:5432]"
  std::uint64_t weight_ms = 0;    // blocked time the stack stands for
  std::vector<std::byte> record;  // a sample record body (build_sample) for the unwinder
};

class OffCpuSampler {
 public:
  // `images`: where a process's GIL is (gil waits); may be null (no gil reason).
  // `dependencies`: the configured names of endpoints (a net wait's root frame is
  // `[net NAME]` for an endpoint a rule matches, else address and well-known port).
  OffCpuSampler(std::string proc_root, std::size_t stack_bytes, std::size_t max_threads,
                std::shared_ptr<process::ProcessImages> images,
                std::vector<DependencyRule> dependencies = {});
  ~OffCpuSampler();
  OffCpuSampler(const OffCpuSampler&) = delete;
  OffCpuSampler& operator=(const OffCpuSampler&) = delete;

  struct Target {
    std::string workload;
    std::vector<int> tids;
  };
  // One round over `targets`, `interval_seconds` after the previous one: calls `emit`
  // for each stack copied and counts the threads whose stack was not kept, by cause
  // ("thread_ran", "stack_read_failed"), into `failures`. Processes not in `targets`
  // are forgotten.
  void round(const std::map<ProcessKey, Target>& targets, double interval_seconds,
             const std::function<void(OffCpuStack)>& emit,
             std::map<std::string, std::uint64_t>& failures);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace stacks
}  // namespace boundwise
