#include "collectors/ebpf/disk.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <string>

#include "collectors/ebpf/bpf_util.hpp"
#include "collectors/ebpf/disk.h"
#include "collectors/ebpf/disk.skel.h"
#include "collectors/ebpf/kernel_histogram.hpp"
#include "collectors/ebpf/targets.hpp"

namespace boundwise::ebpf {

namespace {

class DiskTool final : public Tool {
 public:
  explicit DiskTool(disk_bpf* skel) : skel_(skel) {}
  ~DiskTool() override { disk_bpf__destroy(skel_); }
  DiskTool(const DiskTool&) = delete;
  DiskTool& operator=(const DiskTool&) = delete;

  std::string_view name() const override { return "disk"; }

  Status attach() override {
    if (attached_) return Ok{};
    // A new generation first: requests whose completion went unseen while detached
    // are never counted (disk.bpf.c).
    __atomic_add_fetch(&skel_->bss->attach_gen, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&skel_->bss->inflight, 0, __ATOMIC_SEQ_CST);
    if (int err = disk_bpf__attach(skel_); err != 0)
      return Error{describe_failure("disk: attach to block tracepoints", err)};
    attached_ = true;
    return Ok{};
  }
  void detach() override {
    disk_bpf__detach(skel_);
    attached_ = false;
  }
  bool attached() const override { return attached_; }

  std::vector<std::pair<std::string, int>> programs() const override {
    return program_fds(skel_->obj);
  }

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
      LatencyHistogram h = window_delta(now, base);
      base = now;
      // An empty histogram is still set: "measured, no requests" differs from "not
      // measured" (the evidence says so).
      if (!w.io) w.io.emplace();
      w.io->disk_latency = std::move(h);
    }
  }

 private:
  disk_bpf* skel_;
  bool attached_ = false;
  std::map<std::uint32_t, KernelHistogram> baselines_;
};

}  // namespace

Result<std::unique_ptr<Tool>> load_disk_tool(const ToolContext& ctx) {
  disk_bpf* skel = disk_bpf__open();
  if (skel == nullptr) return Error{describe_failure("disk: open BPF object", errno)};
  // block_io_start (6.5+) sees every request its submitter makes; block_rq_insert
  // only those that pass through an I/O scheduler or a plug (disk.bpf.c).
  const bool io_start = libbpf_find_vmlinux_btf_id("block_io_start", BPF_TRACE_RAW_TP) > 0;
  bpf_program__set_autoload(skel->progs.bw_disk_io_start, io_start);
  bpf_program__set_autoload(skel->progs.bw_disk_rq_insert, !io_start);
  if (int err = ctx.targets->reuse_in(skel->maps.bw_target_bits, skel->maps.bw_target_workload);
      err != 0) {
    disk_bpf__destroy(skel);
    return Error{describe_failure("disk: share the target maps", err)};
  }
  if (int err = disk_bpf__load(skel); err != 0) {
    disk_bpf__destroy(skel);
    return Error{describe_failure("disk: load BPF programs", err)};
  }
  auto tool = std::make_unique<DiskTool>(skel);
  if (auto st = tool->attach(); !st.ok()) return st.error();
  return std::unique_ptr<Tool>(std::move(tool));
}

}  // namespace boundwise::ebpf
