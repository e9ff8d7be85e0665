// The seam between the ebpf collector (ebpf_collector.cpp) and its tools. A tool is a
// trio as in bcc's libbpf-tools: NAME.bpf.c (kernel side), NAME.h (the layout both
// sides share) and NAME.{hpp,cpp} (this interface: load, attach, read). Adding a tool
// = those files, one line in CMakeLists.txt (boundwise_bpf_tool) and one entry in
// kTools in ebpf_collector.cpp.
//
// A tool's programs include targets.bpf.h and its loader hands the shared target maps
// to its skeleton with TargetMaps::reuse_in() before loading. Everything is
// aggregated in the kernel into cumulative counters; contribute() turns (previous,
// current) into the window's numbers, never anything per event.
//
// All calls on the agent's collection thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "classifier/result.hpp"
#include "collectors/collector.hpp"
#include "collectors/counter_delta.hpp"
#include "collectors/ebpf/ebpf_collector.hpp"

namespace boundwise::ebpf {

class TargetMaps;

// What a window close tells every tool.
struct WindowContext {
  std::uint64_t start_ns = 0;  // CLOCK_MONOTONIC of the previous close
  std::uint64_t now_ns = 0;    // of this close
  // Workloads of the window and their kernel ids (1..BW_MAX_WORKLOADS-1). A workload
  // without an id (over the limit) gets no eBPF data.
  const std::map<std::string, std::uint32_t>* ids = nullptr;
  // Share of the window the tool's programs were attached (1 unless the overhead
  // budget duty-cycles it): counts and rates must be divided by it, distributions
  // and shares are unbiased samples.
  double attached_fraction = 1.0;
};

// Where a tool reads its options and the shared maps when it loads. The ebpf
// collector's settings carry the shared process image cache (process_images).
struct ToolContext {
  const TargetMaps* targets = nullptr;
  const CollectorSettings* settings = nullptr;
  const EbpfOptions* options = nullptr;
};

class Tool {
 public:
  virtual ~Tool() = default;

  // "sched", "net", "syscalls", "disk": the config key ebpf_NAME, the part name in
  // boundwise_collector_up and the label of its programs' cost.
  virtual std::string_view name() const = 0;

  // Links: the overhead budget detaches a tool's programs and attaches them again.
  // detach() drops every link; the maps and the counters in them stay.
  virtual Status attach() = 0;
  virtual void detach() = 0;
  virtual bool attached() const = 0;

  // A process became a target of workload `wid`, or moved to it: once per process
  // identity and workload, children the kernel followed at fork included (e.g. record
  // the state of threads that are already asleep, which the kernel side would not see
  // until they run; the process's GIL range). key.pid is the process's tgid.
  virtual void on_new_target(const ProcessKey& /*key*/, std::uint32_t /*wid*/) {}

  // Workload id `wid` was given to a workload (new, or reused after another left):
  // whatever the kernel counted under it so far belongs to no window.
  virtual void on_id_assigned(std::uint32_t /*wid*/) {}

  // Writes this tool's evidence for [ctx.start_ns, ctx.now_ns) into its own part of
  // each workload's evidence.
  virtual void contribute(const WindowContext& ctx, EvidenceSet& evidence) = 0;

  // Loaded programs (name, fd), for the kernel's run-time stats.
  virtual std::vector<std::pair<std::string, int>> programs() const = 0;
};

// A cumulative counter's share of a window sum (the programs' run time and count in
// ebpf_collector.cpp), by the rule of collectors/counter_delta.hpp: a counter that went
// backwards gives no value, so it adds nothing to this window. New code calls
// counter_delta() and handles std::nullopt itself.
inline std::uint64_t delta(std::uint64_t now, std::uint64_t before) {
  return counter_delta(now, before).value_or(0);
}

}  // namespace boundwise::ebpf
