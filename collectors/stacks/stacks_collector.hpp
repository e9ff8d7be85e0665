// The stacks collector: on-CPU call stacks of every target thread. Each thread gets a
// perf_event_open software cpu-clock event (per thread, any CPU: a thread's own ring;
// threads are found by listing /proc/PID/task at each discovery scan and every second)
// that samples at `frequency_hz` with the user registers, a copy of the top
// `stack_bytes` of the user stack and the kernel callchain. sample() drains the rings
// (never blocking: it reads what the kernel has written, on the collection thread),
// unwinds each user stack with libunwind's remote API over the copied bytes and the
// target's ELF call-frame tables (unwinder.hpp), names the frames from the ELF symbol
// tables (C++ demangled) and /proc/kallsyms, and counts folded stacks per workload.
// contribute() hands the window's stacks to WorkloadEvidence::cpu_stacks and its own
// cost (unwinding CPU seconds, failures by cause) to NodeWindow.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collectors/collector.hpp"

namespace boundwise {

std::unique_ptr<Collector> make_stacks_collector(const CollectorSettings& settings);

// Its name, options and factory (collectors/descriptor.hpp); defined in descriptor.cpp.
const CollectorDescriptor& stacks_descriptor();

namespace stacks {

// Pure: one sample's folded stack, root first: the user frames (given leaf first)
// reversed, then the kernel frames (leaf first) reversed with the "_[k]" suffix that
// flamegraph.pl colours as kernel. Frame names are sanitised (classifier/profile.hpp).
std::string fold_stack(const std::vector<std::string>& user_leaf_first,
                       const std::vector<std::string>& kernel_leaf_first);

}  // namespace stacks

}  // namespace boundwise
