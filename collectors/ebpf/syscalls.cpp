#include "collectors/ebpf/syscalls.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <array>
#include <cerrno>
#include <string>

#include "collectors/ebpf/bpf_util.hpp"
#include "collectors/ebpf/kernel_histogram.hpp"
#include "collectors/ebpf/syscall_classes.hpp"
#include "collectors/ebpf/syscalls.h"
#include "collectors/ebpf/syscalls.skel.h"
#include "collectors/ebpf/targets.hpp"

namespace boundwise::ebpf {

namespace {

using ClassHistograms = std::array<KernelHistogram, kSyscallClasses>;

class SyscallsTool final : public Tool {
 public:
  explicit SyscallsTool(syscalls_bpf* skel) : skel_(skel), ncpus_(libbpf_num_possible_cpus()) {
    if (ncpus_ < 1) ncpus_ = 1;
    per_cpu_.resize(static_cast<std::size_t>(ncpus_));
  }
  ~SyscallsTool() override { syscalls_bpf__destroy(skel_); }
  SyscallsTool(const SyscallsTool&) = delete;
  SyscallsTool& operator=(const SyscallsTool&) = delete;

  std::string_view name() const override { return "syscalls"; }

  Status attach() override {
    if (attached_) return Ok{};
    // A new generation first: a syscall that entered before the last detach and exits
    // now must not be counted from its stale start.
    __atomic_add_fetch(&skel_->bss->attach_gen, 1, __ATOMIC_SEQ_CST);
    if (int err = syscalls_bpf__attach(skel_); err != 0)
      return Error{describe_failure("syscalls: attach to sys_enter/sys_exit", err)};
    attached_ = true;
    return Ok{};
  }
  void detach() override {
    syscalls_bpf__detach(skel_);
    attached_ = false;
  }
  bool attached() const override { return attached_; }

  std::vector<std::pair<std::string, int>> programs() const override {
    return program_fds(skel_->obj);
  }

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
        LatencyHistogram h = window_delta(now, base[cls]);
        base[cls] = now;
        if (h.count() == 0) continue;
        if (!w.io) w.io.emplace();
        w.io->syscall_latency[std::string(syscall_class_name(cls))] = std::move(h);
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

  syscalls_bpf* skel_;
  int ncpus_;
  bool attached_ = false;
  std::vector<bw_syscall_hist> per_cpu_;  // lookup buffer, one value per possible CPU
  std::map<std::uint32_t, ClassHistograms> baselines_;
};

}  // namespace

Result<std::unique_ptr<Tool>> load_syscalls_tool(const ToolContext& ctx) {
  syscalls_bpf* skel = syscalls_bpf__open();
  if (skel == nullptr) return Error{describe_failure("syscalls: open BPF object", errno)};
  const auto table = syscall_class_table();
  for (std::size_t nr = 0; nr < table.size(); ++nr)
    skel->rodata->bw_syscall_class_of[nr] = table[nr];
  if (int err = ctx.targets->reuse_in(skel->maps.bw_target_bits, skel->maps.bw_target_workload);
      err != 0) {
    syscalls_bpf__destroy(skel);
    return Error{describe_failure("syscalls: share the target maps", err)};
  }
  if (int err = syscalls_bpf__load(skel); err != 0) {
    syscalls_bpf__destroy(skel);
    return Error{describe_failure("syscalls: load BPF programs", err)};
  }
  auto tool = std::make_unique<SyscallsTool>(skel);
  if (auto st = tool->attach(); !st.ok()) return st.error();
  return std::unique_ptr<Tool>(std::move(tool));
}

}  // namespace boundwise::ebpf
