// The top stacks of a workload's dominant reason, as /recommend evidence: where in the
// code the time of the verdict goes. On-CPU stacks for the CPU classes, the off-CPU
// stacks of the dominant wait reason otherwise (the reason frame at their root, see
// reason_frame in profile.hpp). Each stack is cut to the frames that matter, leaf
// first: kernel frames, the reason frame, unnamed frames and the C library's thread and
// program entry frames are dropped, and the C library's internal prefixes are taken off
// ("__libc_read" reads "read"). A stack with Python frames ("name (file:line)", spliced
// in by the stacks collector) is cut to those, each file to its base name: the
// interpreter's own C frames say nothing about the program. Stacks that cut to the same
// frames count as one. For gil_contended the stacks are the GIL holder's (the GIL
// profile), when there is one. Pure.
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
  bool gil_holder = false;          // a GIL holder's stack (reason gil, from the GIL profile)
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
// stacks_reason; for a gil stacks_reason, of the GIL profile (who holds the GIL) when it
// has samples. Empty when that profile is absent or has none.
std::vector<TopStack> verdict_stacks(Bottleneck verdict, const PerReason<double>& thread_seconds,
                                     const FoldedStacks* cpu, const FoldedStacks* offcpu,
                                     const FoldedStacks* gil = nullptr);

// A frame as the stacks collector names Python frames: "name (file:line)".
bool is_python_frame(std::string_view frame);

// For a person: "ipc waits 92 % under read ← wait_input ← worker_loop",
// "on-CPU 81 % in compute ← handle", "net waits on orders-db 60 % under ...",
// "GIL held 81 % in compute (app.py:42) ← handle (app.py:10)".
std::string describe(const TopStack& stack);

}  // namespace boundwise
