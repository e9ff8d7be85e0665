// The top stacks of a workload's dominant reason, as /recommend evidence: where in the
// code the time of the verdict goes. On-CPU stacks for the CPU classes, the off-CPU
// stacks of the dominant wait reason otherwise (the reason frame at their root, see
// reason_frame in profile.hpp). Each stack is cut to the frames that matter, leaf
// first: kernel frames, the reason frame, unnamed frames and the C library's thread and
// program entry frames are dropped, and the C library's internal prefixes are taken off
// ("__libc_read" reads "read"). Stacks that cut to the same frames count as one.
// Pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "classifier/profile.hpp"
#include "classifier/reason.hpp"
#include "classifier/verdict.hpp"

namespace boundwise {

// Top stacks kept per workload, and frames kept per stack.
inline constexpr std::size_t kTopStacks = 3;
inline constexpr std::size_t kTopStackFrames = 4;

struct TopStack {
  Reason reason = Reason::on_cpu;   // on_cpu: an on-CPU stack
  std::string detail;               // net: the dependency ("postgres 10.0.0.5:5432")
  std::vector<std::string> frames;  // leaf first, at most kTopStackFrames
  double share = 0;                 // of the reason's samples (or blocked time), 0..1

  bool operator==(const TopStack&) const = default;
};

// The frames of `folded` (root first, as in FoldedStacks) that matter, leaf first.
std::vector<std::string> frames_that_matter(std::string_view folded);

// The `n` heaviest stacks of `stacks` (of `reason` only, by its root frame, when given;
// all of them otherwise, as on-CPU stacks), heaviest first, ties by frames.
std::vector<TopStack> top_stacks(const FoldedStacks& stacks, std::optional<Reason> reason,
                                 std::size_t n = kTopStacks);

// The reason whose stacks explain `verdict`: on_cpu for the CPU classes (cpu_bound,
// cpu_parallel, cpu_saturated); the class's own wait for gil_contended (gil),
// io_network (net), io_disk (disk) and lock_contended (lock) when it has thread time;
// otherwise the off-CPU reason (not idle, not run queue) with the most thread time
// (io_network also stands for ipc waits). nullopt when no wait has any time.
std::optional<Reason> stacks_reason(Bottleneck verdict, const PerReason<double>& thread_seconds);

// Top stacks for a verdict: of the on-CPU profile or of the off-CPU profile's
// stacks_reason; empty when that profile is absent or has none.
std::vector<TopStack> verdict_stacks(Bottleneck verdict, const PerReason<double>& thread_seconds,
                                     const FoldedStacks* cpu, const FoldedStacks* offcpu);

// For a person: "ipc waits 92 % under read ← wait_input ← worker_loop",
// "on-CPU 81 % in compute ← handle", "net waits on orders-db 60 % under ...".
std::string describe(const TopStack& stack);

}  // namespace boundwise
