#include "collectors/ebpf/sched.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <string>

#include "collectors/counter_delta.hpp"
#include "collectors/ebpf/bpf_util.hpp"
#include "collectors/ebpf/kernel_histogram.hpp"
#include "collectors/ebpf/sched.h"
#include "collectors/ebpf/sched.skel.h"
#include "collectors/ebpf/skeleton_tool.hpp"
#include "collectors/ebpf/targets.hpp"
#include "collectors/process/process_images.hpp"
#include "collectors/procfs/parse.hpp"
#include "collectors/procfs/proc_io.hpp"

namespace boundwise::ebpf {

namespace {

using OffCpuNs = std::array<double, BW_OFFCPU_STATES>;

struct SchedCounters {
  std::array<std::uint64_t, BW_OFFCPU_STATES> offcpu_ns{};  // cumulative, window-clipped
  std::array<std::uint64_t, BW_LATENCY_SLOTS> runq_slots{};
  std::uint64_t runq_sum_ns = 0;
};

constexpr SkeletonOps<sched_bpf> kSchedOps{sched_bpf__open, sched_bpf__load, sched_bpf__attach,
                                           sched_bpf__detach, sched_bpf__destroy};

class SchedTool final : public SkeletonTool<sched_bpf> {
 public:
  // Every attach starts a new generation of per-thread records: those written before
  // (a thread may have run and waited any number of times while the programs were
  // detached) count as absent, in the kernel and in close_window().
  SchedTool(sched_bpf* skel, std::string proc_root, const TargetMaps* targets,
            std::shared_ptr<process::ProcessImages> images)
      : SkeletonTool(skel, kSchedOps, &skel->bss->attach_generation,
                     "sched: attach to scheduler tracepoints"),
        proc_root_(std::move(proc_root)),
        targets_(targets),
        images_(std::move(images)),
        ncpus_(libbpf_num_possible_cpus()) {
    if (ncpus_ < 1) ncpus_ = 1;
    skel_->bss->window_start_ns = monotonic_ns();
  }

  std::string_view name() const override { return "sched"; }

  void on_id_assigned(std::uint32_t wid) override {
    baselines_[wid] = counters(wid);
    skel_->bss->gil_workloads[wid % BW_MAX_WORKLOADS] = 0;
  }

  // Threads already asleep when their process becomes a target start an off-CPU
  // segment now, in the state /proc shows; otherwise a thread parked since before the
  // agent started would be invisible to the kernel side until it next runs.
  void on_new_target(const ProcessKey& process, std::uint32_t wid) override {
    const int tgid = process.pid;
    set_gil_range(process, wid);
    procfs::Fd dir(::open((proc_root_ + "/" + std::to_string(tgid) + "/task").c_str(),
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.ok()) return;
    const std::uint64_t now_ns = monotonic_ns();
    for (int tid : procfs::list_numeric(dir.get(), ".")) {
      auto text = procfs::read_at(dir.get(), (std::to_string(tid) + "/stat").c_str());
      if (!text) continue;
      auto stat = procfs::parse_stat(*text);
      if (!stat) continue;
      std::uint32_t state = BW_OFFCPU_STATES;
      if (stat->state == 'S') state = BW_INTERRUPTIBLE;
      if (stat->state == 'D') state = BW_UNINTERRUPTIBLE;
      if (state == BW_OFFCPU_STATES) continue;
      // The kernel side takes the run-queue wait that ends the segment as the growth
      // of run_delay since this value; without it there is no honest baseline.
      auto schedstat = procfs::read_at(dir.get(), (std::to_string(tid) + "/schedstat").c_str());
      if (!schedstat) continue;
      auto waits = procfs::parse_schedstat(*schedstat);
      if (!waits) continue;
      auto key = static_cast<std::uint32_t>(tid);
      bw_thread t{};
      t.since_ns = now_ns;
      t.run_delay_ns = waits->wait_ns;
      t.generation = generation();
      t.state = state;
      t.workload = wid;
      // BPF_NOEXIST: the kernel's own record, if the thread switched meanwhile, wins.
      bpf_map__update_elem(skel_->maps.bw_threads, &key, sizeof key, &t, sizeof t, BPF_NOEXIST);
    }
  }

  void contribute(const WindowContext& ctx, EvidenceSet& evidence) override {
    std::map<std::uint32_t, OffCpuNs> open = close_window(ctx.start_ns, ctx.now_ns);
    const std::set<std::uint32_t> gil_known = gil_workloads();
    for (auto& [name, w] : evidence.workloads) {
      auto id = ctx.ids->find(name);
      if (id == ctx.ids->end()) continue;
      const std::uint32_t wid = id->second;
      SchedCounters now = counters(wid);
      SchedCounters& base = baselines_[wid];
      auto offcpu = counter_delta(now.offcpu_ns, base.offcpu_ns);
      std::optional<LatencyHistogram> runq =
          histogram_delta(now.runq_slots, base.runq_slots, now.runq_sum_ns, base.runq_sum_ns);
      base = now;
      if (!offcpu || !runq) continue;  // the entry was reset: no value for this window
      OffCpuNs ns{};
      for (int i = 0; i < BW_OFFCPU_STATES; ++i) {
        ns[i] = static_cast<double>((*offcpu)[i]);
        if (auto o = open.find(wid); o != open.end()) ns[i] += o->second[i];
      }
      MeasuredOffCpu m;
      m.interruptible = ns[BW_INTERRUPTIBLE] / 1e9;
      m.uninterruptible = ns[BW_UNINTERRUPTIBLE] / 1e9;
      m.preempted = ns[BW_PREEMPTED] / 1e9;
      m.woken = ns[BW_WOKEN] / 1e9;
      m.other = ns[BW_OTHER_STATE] / 1e9;
      m.gil = ns[BW_GIL_WAIT] / 1e9;
      m.gil_exact = gil_known.count(wid) != 0;
      // Off-CPU time of a duty-cycled window covers only its attached part: the
      // split is still a fair sample, the seconds are not (assemble merges shares).
      m.runqueue_latency = std::move(*runq);
      w.offcpu = std::move(m);
    }
  }

 private:
  // A CPython process whose GIL the ELF locates gets its range in the kernel, so
  // that sched_switch can tell GIL waits from other sleeps; anything else (not
  // Python, a free-threaded build, a version without a known offset, a reused PID
  // that is no longer Python) has its stale range removed.
  void set_gil_range(const ProcessKey& process, std::uint32_t wid) {
    auto key = static_cast<std::uint32_t>(process.pid);
    auto located = images_->gil(process);
    if (located && located->has_value() && (*located)->begin < (*located)->end) {
      bw_gil_range range{(*located)->begin, (*located)->end, wid, 0};
      if (bpf_map__update_elem(skel_->maps.bw_gil_ranges, &key, sizeof key, &range, sizeof range,
                               BPF_ANY) == 0) {
        skel_->bss->gil_workloads[wid % BW_MAX_WORKLOADS] = 1;
        return;
      }
    }
    bpf_map__delete_elem(skel_->maps.bw_gil_ranges, &key, sizeof key, 0);
  }

  // Workload ids with at least one process whose GIL range the kernel holds: their
  // GIL waits were measured at every switch. A range whose process is no longer a
  // target of that workload goes (it exited while the programs were detached, so the
  // kernel side never saw its leader leave).
  std::set<std::uint32_t> gil_workloads() {
    std::map<std::uint32_t, std::uint32_t> live;
    for (const auto& [tgid, wid] : targets_->targets())
      live.emplace(static_cast<std::uint32_t>(tgid), wid);
    std::set<std::uint32_t> out;
    std::vector<std::uint32_t> stale;
    const bpf_map* map = skel_->maps.bw_gil_ranges;
    for_each_entry<std::uint32_t, bw_gil_range>(
        map, [&](std::uint32_t tgid, const bw_gil_range& range) {
          auto it = live.find(tgid);
          if (it != live.end() && it->second == range.workload) {
            out.insert(range.workload);
          } else {
            stale.push_back(tgid);
          }
        });
    for (std::uint32_t tgid : stale) bpf_map__delete_elem(map, &tgid, sizeof tgid, 0);
    return out;
  }

  // Cumulative counters of one workload, summed over CPUs.
  SchedCounters counters(std::uint32_t wid) const {
    SchedCounters out;
    std::vector<bw_sched_stats> per_cpu(static_cast<std::size_t>(ncpus_));
    if (bpf_map__lookup_elem(skel_->maps.bw_sched_stats, &wid, sizeof wid, per_cpu.data(),
                             per_cpu.size() * sizeof(bw_sched_stats), 0) != 0) {
      return out;
    }
    for (const auto& s : per_cpu) {
      for (int i = 0; i < BW_OFFCPU_STATES; ++i) out.offcpu_ns[i] += s.offcpu_ns[i];
      for (int i = 0; i < BW_LATENCY_SLOTS; ++i) out.runq_slots[i] += s.runq_slots[i];
      out.runq_sum_ns += s.runq_sum_ns;
    }
    return out;
  }

  // The kernel counts a segment when the thread next leaves the CPU (only then is
  // the run-queue wait that ended it known). Returns, per workload, the part after
  // `window_start_ns` of every segment not counted yet: still open at `now_ns`, or
  // ended but its thread still on the CPU (then all of it in the state it left in:
  // the wait is not known yet). Makes `now_ns` the start of the next window for the
  // kernel first, so the kernel's later count of the same segment starts there; a
  // segment ending during the walk may be counted for the walk's few microseconds
  // twice.
  std::map<std::uint32_t, OffCpuNs> close_window(std::uint64_t window_start_ns,
                                                 std::uint64_t now_ns) {
    std::map<std::uint32_t, OffCpuNs> open;
    skel_->bss->window_start_ns = now_ns;
    if (!attached()) return open;  // every record is from before the detach
    const std::uint32_t current = generation();
    for_each_entry<std::uint32_t, bw_thread>(
        skel_->maps.bw_threads, [&](std::uint32_t /*tid*/, const bw_thread& t) {
          if (t.generation != current || t.since_ns == 0 || t.state >= BW_OFFCPU_STATES ||
              t.since_ns >= now_ns)
            return;
          const std::uint64_t until = t.until_ns != 0 && t.until_ns < now_ns ? t.until_ns : now_ns;
          const std::uint64_t from = t.since_ns > window_start_ns ? t.since_ns : window_start_ns;
          if (until > from) open[t.workload][t.state] += static_cast<double>(until - from);
        });
    return open;
  }

  std::string proc_root_;
  const TargetMaps* targets_;
  std::shared_ptr<process::ProcessImages> images_;  // shared with the other collectors
  int ncpus_;
  std::map<std::uint32_t, SchedCounters> baselines_;
};

}  // namespace

Result<std::unique_ptr<Tool>> load_sched_tool(const ToolContext& ctx) {
  // Run-queue waits are read from the scheduler's sched_info, kept only with
  // CONFIG_SCHED_INFO (on wherever delay accounting or schedstats are, i.e. every
  // distribution kernel); its user-visible sign is /proc/PID/schedstat.
  if (::access("/proc/self/schedstat", R_OK) != 0) {
    return Error{
        "sched: the kernel keeps no run-queue statistics (/proc/self/schedstat: " +
        std::string(std::strerror(errno)) +
        "; hint: a kernel built with CONFIG_SCHED_INFO, selected by CONFIG_TASK_DELAY_ACCT or "
        "CONFIG_SCHEDSTATS)"};
  }
  return load_skeleton_tool(
      "sched", kSchedOps, ctx, [](sched_bpf*) {},
      [&ctx](sched_bpf* skel) {
        return std::make_unique<SchedTool>(
            skel, ctx.settings->proc_root, ctx.targets,
            process::with_process_images(*ctx.settings).process_images);
      });
}

}  // namespace boundwise::ebpf
