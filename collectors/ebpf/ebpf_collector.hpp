// The ebpf collector: exact numbers from the kernel's tracepoints where procfs can
// only sample, from independent tools (tool.hpp), each a part with its own switch
// (`collectors: {ebpf_sched: {enabled: false}}`) and its own
// boundwise_collector_up{collector="ebpf_sched"}:
//   sched     off-CPU thread time by state, run-queue latency (sched.bpf.c)
//   net       request latency per dependency and inbound port (net.bpf.c)
//   syscalls  syscall latency by class, fsync included (syscalls.bpf.c)
//   disk      block request latency of the requests a workload submits (disk.bpf.c)
// All tools share one target bitmap and fork follower (targets.hpp), and one overhead
// budget (budget.hpp) enforced by duty-cycling the most expensive tools.
//
// Its evidence is measured (MeasuredOffCpu, MeasuredNet, MeasuredIo), which assemble()
// prefers to procfs's samples field by field. Needs root (or
// CAP_BPF + CAP_PERFMON; CAP_SYS_ADMIN at start for the run-time stats the budget is
// measured with) and kernel BTF; without them start() fails with the reason and a
// hint, the agent reports boundwise_collector_up{collector="ebpf"} 0 and goes on with
// procfs alone. Config key, metric label and logger name: "ebpf".
#pragma once

#include <memory>

#include "collectors/collector.hpp"

namespace boundwise {

std::unique_ptr<Collector> make_ebpf_collector(const CollectorSettings& settings);

// Its name, parts and options (collectors/descriptor.hpp); defined in descriptor.cpp.
const CollectorDescriptor& ebpf_descriptor();

// The `ebpf:` options (docs/CONFIG.md), read from the settings once per start.
struct EbpfOptions {
  double budget_cores = 0;         // all BPF programs together, in cores
  std::string net_source;          // auto | tracepoints | syscalls (net tool)
  double per_run_overhead_ns = 0;  // charged per program run on top of its run time
};
EbpfOptions ebpf_options(const CollectorSettings& settings);

}  // namespace boundwise
