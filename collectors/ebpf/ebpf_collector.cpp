// The ebpf collector: workload ids for the kernel, target synchronisation, and the
// per-window reads. Each window costs one read per workload and one walk of the
// threads that are off-CPU, never anything per event.
#include "collectors/ebpf/ebpf_collector.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "collectors/ebpf/bpf_util.hpp"
#include "collectors/ebpf/offcpu_merge.hpp"
#include "collectors/ebpf/sched.hpp"
#include "collectors/procfs/parse.hpp"
#include "collectors/procfs/proc_io.hpp"

namespace boundwise {

namespace {

using ebpf::OffCpuNs;
using ebpf::SchedCounters;

class EbpfCollector final : public Collector {
 public:
  explicit EbpfCollector(const CollectorSettings& settings)
      : settings_(settings),
        log_(spdlog::get("ebpf") ? spdlog::get("ebpf") : spdlog::default_logger()) {}

  ~EbpfCollector() override {
    // sched_ first: its skeleton detaches the programs; then the stats fd.
    sched_.reset();
    if (stats_fd_ >= 0) ::close(stats_fd_);
  }

  std::string_view name() const override { return "ebpf"; }
  std::chrono::nanoseconds period() const override { return std::chrono::nanoseconds(0); }

  Status start() override {
    struct stat st {};
    if (::stat("/sys/kernel/btf/vmlinux", &st) != 0) {
      return Error{
          "kernel BTF is missing (/sys/kernel/btf/vmlinux: " + std::string(std::strerror(errno)) +
          "; hint: a kernel built with CONFIG_DEBUG_INFO_BTF=y)"};
    }
    auto sched = ebpf::SchedTool::load();
    if (!sched) return sched.error();
    sched_ = std::move(*sched);
    // Run-time stats cost two clock reads per program run, for every BPF program on
    // the host, while the fd is open; they are how the agent measures its own cost.
    stats_fd_ = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (stats_fd_ < 0) {
      log_->warn(
          "cannot enable BPF run-time stats ({}): "
          "boundwise_ebpf_program_seconds_total will be absent",
          ebpf::describe_failure("bpf(BPF_ENABLE_STATS)", errno));
    }
    window_start_ns_ = ebpf::monotonic_ns();
    std::map<std::uint32_t, OffCpuNs> ignored;
    sched_->close_window(window_start_ns_, window_start_ns_, ignored);
    return Ok{};
  }

  void set_targets(const TargetSet& targets) override {
    if (!sched_) return;
    assign_workload_ids(targets);
    std::map<int, std::uint32_t> wanted;
    for (const auto& w : targets.workloads) {
      auto wid = ids_.at(w.name);
      for (const auto& key : w.processes) wanted.emplace(key.pid, wid);
    }
    std::map<int, std::uint32_t> known;
    for (const auto& [tgid, wid] : sched_->targets()) known.emplace(tgid, wid);
    for (const auto& [tgid, wid] : wanted) {
      auto it = known.find(tgid);
      if (it != known.end() && it->second == wid) continue;
      sched_->mark(tgid, wid);
      if (it == known.end()) seed_threads(tgid, wid);
    }
    // Leave alone the children the kernel followed (discovery will list them), unless
    // their workload is gone; drop what this code marked and no longer wants.
    std::set<std::uint32_t> live_ids;
    for (const auto& [name, wid] : ids_) live_ids.insert(wid);
    for (const auto& [tgid, wid] : known) {
      if (wanted.count(tgid) != 0) continue;
      if (live_ids.count(wid) == 0 || marked_.count(tgid) != 0) sched_->unmark(tgid);
    }
    marked_.clear();
    for (const auto& [tgid, wid] : wanted) marked_.insert(tgid);
  }

  Status sample(SteadyTime) override { return Ok{}; }

  void contribute(SteadyTime, WindowSet& windows) override {
    if (!sched_) return;
    const std::uint64_t now_ns = ebpf::monotonic_ns();
    std::map<std::uint32_t, OffCpuNs> open;
    sched_->close_window(window_start_ns_, now_ns, open);
    window_start_ns_ = now_ns;
    for (auto& [name, w] : windows.workloads) {
      auto id = ids_.find(name);
      if (id == ids_.end()) continue;
      const std::uint32_t wid = id->second;
      SchedCounters now = sched_->counters(wid);
      SchedCounters& base = baselines_[wid];
      ebpf::MeasuredOffCpu m;
      double* fields[BW_OFFCPU_STATES] = {&m.interruptible, &m.uninterruptible, &m.preempted,
                                          &m.woken, &m.other};
      for (int i = 0; i < BW_OFFCPU_STATES; ++i) {
        double delta =
            now.offcpu_ns[i] >= base.offcpu_ns[i] ? now.offcpu_ns[i] - base.offcpu_ns[i] : 0;
        auto o = open.find(wid);
        if (o != open.end()) delta += o->second[i];
        *fields[i] = delta / 1e9;
      }
      LatencyHistogram runq;
      for (std::size_t i = 0; i < kLatencySlots; ++i) {
        runq.slots[i] = now.runqueue.slots[i] >= base.runqueue.slots[i]
                            ? now.runqueue.slots[i] - base.runqueue.slots[i]
                            : 0;
      }
      runq.sum_seconds = std::max(0.0, now.runqueue.sum_seconds - base.runqueue.sum_seconds);
      base = std::move(now);
      ebpf::merge_offcpu(m, w);
      w.runqueue_latency = std::move(runq);
    }
    if (stats_fd_ >= 0) {
      for (const auto& [prog, fd] : sched_->programs()) {
        auto s = ebpf::program_run_stats(fd);
        windows.node.bpf_programs[prog] = {static_cast<double>(s.run_time_ns) / 1e9, s.run_count};
      }
    }
  }

 private:
  // Stable small ids for the kernel's per-workload arrays; an id freed by a workload
  // that left is reused, with its baseline reset to the counters' current values.
  void assign_workload_ids(const TargetSet& targets) {
    std::set<std::string> names;
    for (const auto& w : targets.workloads) names.insert(w.name);
    for (auto it = ids_.begin(); it != ids_.end();) {
      it = names.count(it->first) == 0 ? ids_.erase(it) : std::next(it);
    }
    std::set<std::uint32_t> used;
    for (const auto& [name, wid] : ids_) used.insert(wid);
    for (const auto& name : names) {
      if (ids_.count(name) != 0) continue;
      std::uint32_t wid = 1;
      while (used.count(wid) != 0) ++wid;
      if (wid >= BW_MAX_WORKLOADS) {
        if (!full_warned_)
          log_->warn("more than {} workloads: the rest get no eBPF data", BW_MAX_WORKLOADS - 1);
        full_warned_ = true;
        continue;
      }
      used.insert(wid);
      ids_[name] = wid;
      baselines_[wid] = sched_->counters(wid);
    }
  }

  // Threads already asleep when their process becomes a target start an off-CPU
  // segment now, in the state /proc shows; otherwise a thread parked since before the
  // agent started would be invisible to the kernel side until it next runs.
  void seed_threads(int tgid, std::uint32_t wid) {
    procfs::Fd dir(::open((settings_.proc_root + "/" + std::to_string(tgid) + "/task").c_str(),
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.ok()) return;
    const std::uint64_t now_ns = ebpf::monotonic_ns();
    for (int tid : procfs::list_numeric(dir.get(), ".")) {
      auto text = procfs::read_at(dir.get(), (std::to_string(tid) + "/stat").c_str());
      if (!text) continue;
      auto stat = procfs::parse_stat(*text);
      if (!stat) continue;
      std::uint32_t state = BW_OFFCPU_STATES;
      if (stat->state == 'S') state = BW_INTERRUPTIBLE;
      if (stat->state == 'D') state = BW_UNINTERRUPTIBLE;
      if (state != BW_OFFCPU_STATES) sched_->seed_thread(tid, wid, state, now_ns);
    }
  }

  CollectorSettings settings_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<ebpf::SchedTool> sched_;
  int stats_fd_ = -1;
  std::uint64_t window_start_ns_ = 0;
  std::map<std::string, std::uint32_t> ids_;
  std::map<std::uint32_t, SchedCounters> baselines_;
  std::set<int> marked_;
  bool full_warned_ = false;
};

}  // namespace

std::unique_ptr<Collector> make_ebpf_collector(const CollectorSettings& settings) {
  return std::make_unique<EbpfCollector>(settings);
}

}  // namespace boundwise
