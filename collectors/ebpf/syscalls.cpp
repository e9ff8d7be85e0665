#include "collectors/ebpf/syscalls.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <array>
#include <cerrno>
#include <optional>
#include <string>

#include "collectors/ebpf/bpf_util.hpp"
#include "collectors/ebpf/kernel_histogram.hpp"
#include "collectors/ebpf/skeleton_tool.hpp"
#include "collectors/ebpf/syscall_classes.hpp"
#include "collectors/ebpf/syscalls.h"
#include "collectors/ebpf/syscalls.skel.h"
#include "collectors/ebpf/targets.hpp"

namespace boundwise::ebpf {

namespace {

using ClassHistograms = std::array<KernelHistogram, kSyscallClasses>;

constexpr SkeletonOps<syscalls_bpf> kSyscallsOps{syscalls_bpf__open, syscalls_bpf__load,
                                                 syscalls_bpf__attach, syscalls_bpf__detach,
                                                 syscalls_bpf__destroy};

class SyscallsTool final : public SkeletonTool<syscalls_bpf> {
 public:
  // The generation: a syscall that entered before the last detach and exits now must
  // not be counted from its stale start.
  explicit SyscallsTool(syscalls_bpf* skel)
      : SkeletonTool(skel, kSyscallsOps, &skel->bss->attach_gen,
                     "syscalls: attach to sys_enter/sys_exit"),
        ncpus_(libbpf_num_possible_cpus()) {
    if (ncpus_ < 1) ncpus_ = 1;
    per_cpu_.resize(static_cast<std::size_t>(ncpus_));
  }

  std::string_view name() const override { return "syscalls"; }

  // The kernel's histograms of a (new or reused) id start from zero; the program only
  // looks entries up, so they are created here.
  void on_id_assigned(std::uint32_t wid) override {
    std::fill(per_cpu_.begin(), per_cpu_.end(), bw_syscall_hist{});
    for (std::uint32_t cls = 0; cls < kSyscallClasses; ++cls) {
      std::uint32_t key = bw_syscall_key(wid, cls);
      bpf_map__update_elem(skel_->maps.bw_syscall_hists, &key, sizeof key, per_cpu_.data(),
                           per_cpu_.size() * sizeof(bw_syscall_hist), BPF_ANY);
    }
    baselines_[wid] = ClassHistograms{};
  }

  void contribute(const WindowContext& ctx, EvidenceSet& evidence) override {
    for (auto& [name, w] : evidence.workloads) {
      auto id = ctx.ids->find(name);
      if (id == ctx.ids->end()) continue;
      const std::uint32_t wid = id->second;
      ClassHistograms& base = baselines_[wid];
      for (std::uint32_t cls = 0; cls < kSyscallClasses; ++cls) {
        KernelHistogram now = read(wid, cls);
        std::optional<LatencyHistogram> h = window_delta(now, base[cls]);
        base[cls] = now;
        if (!h || h->count() == 0) continue;  // reset (no value), or no calls
        if (!w.io) w.io.emplace();
        w.io->syscall_latency[std::string(syscall_class_name(cls))] = std::move(*h);
      }
    }
  }

 private:
  // One (workload, class) histogram summed over CPUs; empty when the entry is missing.
  KernelHistogram read(std::uint32_t wid, std::uint32_t cls) {
    KernelHistogram out;
    std::uint32_t key = bw_syscall_key(wid, cls);
    if (bpf_map__lookup_elem(skel_->maps.bw_syscall_hists, &key, sizeof key, per_cpu_.data(),
                             per_cpu_.size() * sizeof(bw_syscall_hist), 0) != 0) {
      return out;
    }
    for (const auto& v : per_cpu_) out.add(v);
    return out;
  }

  int ncpus_;
  std::vector<bw_syscall_hist> per_cpu_;  // lookup buffer, one value per possible CPU
  std::map<std::uint32_t, ClassHistograms> baselines_;
};

}  // namespace

Result<std::unique_ptr<Tool>> load_syscalls_tool(const ToolContext& ctx) {
  return load_skeleton_tool(
      "syscalls", kSyscallsOps, ctx,
      [](syscalls_bpf* skel) {
        const auto table = syscall_class_table();
        for (std::size_t nr = 0; nr < table.size(); ++nr)
          skel->rodata->bw_syscall_class_of[nr] = table[nr];
      },
      [](syscalls_bpf* skel) { return std::make_unique<SyscallsTool>(skel); });
}

}  // namespace boundwise::ebpf
