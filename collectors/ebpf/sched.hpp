// The sched tool (sched.bpf.c, layout in sched.h): off-CPU thread time by the state a
// thread left the CPU in, and run-queue latency, per workload. Its contribute()
// writes them as MeasuredOffCpu evidence; assemble() re-divides procfs's sampled
// off-CPU reasons by the measured split.
#pragma once

#include <memory>

#include "classifier/result.hpp"
#include "collectors/ebpf/tool.hpp"

namespace boundwise::ebpf {

// Opens, loads and attaches. Error: why, with a hint (bpf_util.hpp).
Result<std::unique_ptr<Tool>> load_sched_tool(const ToolContext& ctx);

}  // namespace boundwise::ebpf
