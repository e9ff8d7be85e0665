// The ebpf collector: exact numbers from the kernel's tracepoints where procfs can
// only sample. Today one tool, sched (sched.bpf.c): off-CPU thread time by state,
// merged into the procfs split (offcpu_merge.hpp), and run-queue latency histograms.
//
// Registered after procfs: its contribute() rescales what procfs put in the window.
// Needs root (or CAP_BPF + CAP_PERFMON) and kernel BTF; without them start() fails
// with the reason and a hint, the agent reports boundwise_collector_up{collector=
// "ebpf"} 0 and goes on with procfs alone. Config key, metric label and logger name:
// "ebpf".
#pragma once

#include <memory>

#include "collectors/collector.hpp"

namespace boundwise {

std::unique_ptr<Collector> make_ebpf_collector(const CollectorSettings& settings);

}  // namespace boundwise
