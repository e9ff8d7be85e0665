// The net tool (net.bpf.c, layout in net.h, pure parts in net_counters.hpp): per
// dependency request latency, connect latency, requests and bytes of TCP clients, and
// inbound request latency of TCP servers, per workload. Its contribute() writes them
// as MeasuredNet evidence, per remote endpoint; assemble() names and caps them with
// procfs's sampled waits.
//
// Source of socket traffic (config ebpf.net_source): "tracepoints" (sock_send_length
// / sock_recv_length, kernel 6.3+), "syscalls" (sys_enter/sys_exit of the
// read/write/send/recv family, fd → socket in BPF), or "auto" = tracepoints when the
// kernel's BTF has them. Only the chosen source's programs are loaded.
#pragma once

#include <memory>
#include <string>

#include "classifier/result.hpp"
#include "collectors/ebpf/tool.hpp"

namespace boundwise::ebpf {

// "tracepoints" or "syscalls" for a configured source ("auto" probes the kernel's
// BTF for btf_trace_sock_send_length); an error for anything else.
Result<std::string> resolve_net_source(const std::string& configured);

// Opens, loads and attaches. Error: why, with a hint (bpf_util.hpp).
Result<std::unique_ptr<Tool>> load_net_tool(const ToolContext& ctx);

}  // namespace boundwise::ebpf
