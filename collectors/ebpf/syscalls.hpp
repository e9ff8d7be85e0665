// The syscalls tool (syscalls.bpf.c, layout in syscalls.h, classes in
// syscall_classes.hpp): latency of the workload's syscalls by class, from sys_enter →
// sys_exit. Its contribute() sets WorkloadWindow::syscall_latency. The fsync class is
// the workload's fsync latency (the disk tool measures the block requests under it).
//
// It hooks every syscall on the host: the first tool the overhead budget sheds.
#pragma once

#include <memory>

#include "classifier/result.hpp"
#include "collectors/ebpf/tool.hpp"

namespace boundwise::ebpf {

// Opens, loads and attaches. Error: why, with a hint (bpf_util.hpp).
Result<std::unique_ptr<Tool>> load_syscalls_tool(const ToolContext& ctx);

}  // namespace boundwise::ebpf
