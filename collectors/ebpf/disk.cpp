#include "collectors/ebpf/disk.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <optional>
#include <string>

#include "collectors/ebpf/bpf_util.hpp"
#include "collectors/ebpf/disk.h"
#include "collectors/ebpf/disk.skel.h"
#include "collectors/ebpf/kernel_histogram.hpp"
#include "collectors/ebpf/skeleton_tool.hpp"
#include "collectors/ebpf/targets.hpp"

namespace boundwise::ebpf {

namespace {

constexpr SkeletonOps<disk_bpf> kDiskOps{disk_bpf__open, disk_bpf__load, disk_bpf__attach,
                                         disk_bpf__detach, disk_bpf__destroy};

class DiskTool final : public SkeletonTool<disk_bpf> {
 public:
  // The generation: requests whose completion went unseen while detached must not be
  // completed against their stale issue time.
  explicit DiskTool(disk_bpf* skel)
      : SkeletonTool(skel, kDiskOps, &skel->bss->attach_gen, "disk: attach to block tracepoints") {}

  std::string_view name() const override { return "disk"; }

  void on_id_assigned(std::uint32_t wid) override {
    bw_disk_hist zero{};
    bpf_map__update_elem(skel_->maps.bw_disk_hists, &wid, sizeof wid, &zero, sizeof zero, BPF_ANY);
    baselines_[wid] = KernelHistogram{};
  }

  void contribute(const WindowContext& ctx, EvidenceSet& evidence) override {
    for (auto& [name, w] : evidence.workloads) {
      auto id = ctx.ids->find(name);
      if (id == ctx.ids->end()) continue;
      const std::uint32_t wid = id->second;
      KernelHistogram now;
      bw_disk_hist v{};
      if (bpf_map__lookup_elem(skel_->maps.bw_disk_hists, &wid, sizeof wid, &v, sizeof v, 0) != 0)
        continue;
      now.add(v);
      KernelHistogram& base = baselines_[wid];
      std::optional<LatencyHistogram> h = window_delta(now, base);
      base = now;
      if (!h) continue;  // the entry was reset: no value for this window
      // An empty histogram is still set: "measured, no requests" differs from "not
      // measured" (the evidence says so).
      if (!w.io) w.io.emplace();
      w.io->disk_latency = std::move(*h);
    }
  }

 private:
  std::map<std::uint32_t, KernelHistogram> baselines_;
};

}  // namespace

Result<std::unique_ptr<Tool>> load_disk_tool(const ToolContext& ctx) {
  return load_skeleton_tool(
      "disk", kDiskOps, ctx,
      [](disk_bpf* skel) {
        // block_io_start (6.5+) sees every request its submitter makes; block_rq_insert
        // only those that pass through an I/O scheduler or a plug (disk.bpf.c).
        const bool io_start = libbpf_find_vmlinux_btf_id("block_io_start", BPF_TRACE_RAW_TP) > 0;
        bpf_program__set_autoload(skel->progs.bw_disk_io_start, io_start);
        bpf_program__set_autoload(skel->progs.bw_disk_rq_insert, !io_start);
      },
      [](disk_bpf* skel) { return std::make_unique<DiskTool>(skel); });
}

}  // namespace boundwise::ebpf
