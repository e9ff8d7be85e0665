// The disk tool (disk.bpf.c, layout in disk.h): block request latency (issued to the
// driver → completed) of the requests a workload's threads submit. Its contribute()
// sets WorkloadWindow::disk_latency. Writeback by kernel threads is not attributed;
// fsync latency is the syscalls tool's "fsync" class.
#pragma once

#include <memory>

#include "classifier/result.hpp"
#include "collectors/ebpf/tool.hpp"

namespace boundwise::ebpf {

// Opens, loads and attaches. Error: why, with a hint (bpf_util.hpp).
Result<std::unique_ptr<Tool>> load_disk_tool(const ToolContext& ctx);

}  // namespace boundwise::ebpf
