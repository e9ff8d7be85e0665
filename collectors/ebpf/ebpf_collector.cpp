// The ebpf collector: workload ids for the kernel, target synchronisation, the
// budget's duty cycle, and the per-window reads. Each window costs a few map reads
// per workload and tool, never anything per event.
#include "collectors/ebpf/ebpf_collector.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <set>

#include "collectors/ebpf/bpf_util.hpp"
#include "collectors/ebpf/budget.hpp"
#include "collectors/ebpf/disk.hpp"
#include "collectors/ebpf/net.hpp"
#include "collectors/ebpf/sched.hpp"
#include "collectors/ebpf/syscalls.hpp"
#include "collectors/ebpf/targets.h"
#include "collectors/ebpf/targets.hpp"
#include "collectors/ebpf/tool.hpp"
#include "collectors/process/process_images.hpp"

namespace boundwise {

namespace {

using ebpf::Tool;
using ebpf::ToolContext;

struct ToolEntry {
  const char* name;
  Result<std::unique_ptr<Tool>> (*load)(const ToolContext&);
};

// Every tool, in the order the budget sheds them (first = first duty-cycled): the
// syscall histograms hook every syscall on the host and are the first to go; the
// scheduler's numbers carry the classification and go last.
constexpr ToolEntry kTools[] = {
    {"sched", ebpf::load_sched_tool},
    {"net", ebpf::load_net_tool},
    // Off by default (its descriptor, descriptor.cpp): its sys_enter/sys_exit hooks
    // cost every syscall of the host, mostly in the tracepoint dispatch the run-time
    // stats (and so the budget) cannot see — a getppid loop of another process ran
    // ~30 % slower with it attached (docs/BENCHMARKS.md).
    {"syscalls", ebpf::load_syscalls_tool},
    {"disk", ebpf::load_disk_tool},
};
constexpr const char* kShedOrder[] = {"syscalls", "disk", "net", "sched"};

// The duty cycle: sample() ticks every kTick; a cycle is kTicksPerCycle ticks, and a
// tool with duty d is attached for the first round(d × ticks) of them.
constexpr auto kTick = std::chrono::milliseconds(500);
constexpr int kTicksPerCycle = 20;
// A tool the budget detached is tried again at the minimum duty this often, so a
// change in load is noticed.
constexpr int kRetryDetachedWindows = 30;

// BPF run-time stats (BPF_ENABLE_STATS) stay on while the returned fd is open. Opened
// once per process and never closed: it needs CAP_SYS_ADMIN, which the agent drops
// after start-up, and a SIGHUP restart of the collectors must still have it. -errno
// when refused (then the sysctl kernel.bpf_stats_enabled may still be set by hand).
int run_time_stats_fd() {
  static const int fd = [] {
    int r = bpf_enable_stats(BPF_STATS_RUN_TIME);
    return r >= 0 ? r : -errno;
  }();
  return fd;
}

bool stats_sysctl_on() {
  char c = '0';
  int fd = ::open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::read(fd, &c, 1) == 1;
  ::close(fd);
  return ok && c == '1';
}

class EbpfCollector final : public Collector {
 public:
  explicit EbpfCollector(const CollectorSettings& settings)
      : settings_(process::with_process_images(settings)),
        options_(ebpf_options(settings)),
        log_(spdlog::get("ebpf") ? spdlog::get("ebpf") : spdlog::default_logger()) {}

  // Tools first (their skeletons detach their programs), then the shared maps.
  ~EbpfCollector() override {
    tools_.clear();
    targets_.reset();
  }

  std::string_view name() const override { return "ebpf"; }
  std::chrono::nanoseconds period() const override { return kTick; }

  Status start() override {
    struct stat st {};
    if (::stat("/sys/kernel/btf/vmlinux", &st) != 0) {
      return Error{
          "kernel BTF is missing (/sys/kernel/btf/vmlinux: " + std::string(std::strerror(errno)) +
          "; hint: a kernel built with CONFIG_DEBUG_INFO_BTF=y)"};
    }
    auto targets = ebpf::TargetMaps::load();
    if (!targets) return targets.error();
    targets_ = std::move(*targets);

    ToolContext ctx{targets_.get(), &settings_, &options_};
    std::string failures;
    for (const auto& entry : kTools) {
      PartStatus part{std::string("ebpf_") + entry.name, false, ""};
      auto enabled = settings_.collectors_enabled.find(part.name);
      const bool on = enabled != settings_.collectors_enabled.end()
                          ? enabled->second
                          : boundwise::enabled_by_default({&ebpf_descriptor()}, part.name);
      if (!on) {
        log_->info("{}: disabled by configuration{}", part.name,
                   enabled == settings_.collectors_enabled.end()
                       ? fmt::format(" (off by default; collectors: {{{}: {{enabled: true}}}} "
                                     "turns it on)",
                                     part.name)
                       : "");
        continue;  // not a part that is down: not exported at all, like a disabled collector
      } else if (auto tool = entry.load(ctx); !tool) {
        part.error = tool.error().message;
        log_->warn("{}: down: {}", part.name, part.error);
        failures += (failures.empty() ? "" : "; ") + part.error;
      } else {
        part.up = true;
        log_->info("{}: up", part.name);
        Running r;
        r.tool = std::move(*tool);
        r.attached_since_ns = ebpf::monotonic_ns();
        tools_.emplace(entry.name, std::move(r));
      }
      parts_.push_back(std::move(part));
    }
    if (tools_.empty() && !failures.empty()) return Error{failures};

    stats_ = run_time_stats_fd() >= 0 || stats_sysctl_on();
    if (!stats_) {
      log_->warn(
          "cannot enable BPF run-time stats ({}): the overhead budget of {:g} cores is not "
          "enforced and boundwise_ebpf_program_seconds_total is absent",
          ebpf::describe_failure("bpf(BPF_ENABLE_STATS)", run_time_stats_fd()),
          options_.budget_cores);
    }
    window_start_ns_ = ebpf::monotonic_ns();
    return Ok{};
  }

  std::vector<PartStatus> parts() const override { return parts_; }

  void set_targets(const TargetSet& targets) override {
    settings_.process_images->retain(targets);
    if (!targets_) return;
    assign_workload_ids(targets);
    std::map<int, std::uint32_t> wanted;
    std::map<ProcessKey, std::uint32_t> announce;
    for (const auto& w : targets.workloads) {
      auto id = ids_.find(w.name);
      if (id == ids_.end()) continue;
      for (const auto& key : w.processes) {
        wanted.emplace(key.pid, id->second);
        announce.emplace(key, id->second);
      }
    }
    std::map<int, std::uint32_t> known;
    for (const auto& [tgid, wid] : targets_->targets()) known.emplace(tgid, wid);
    for (const auto& [tgid, wid] : wanted) {
      auto it = known.find(tgid);
      if (it != known.end() && it->second == wid) continue;
      targets_->mark(tgid, wid);
    }
    // Tools hear of each process once per workload, by identity (a reused PID is a new
    // process), including the children the kernel marked itself when they forked.
    for (const auto& [key, wid] : announce) {
      auto it = announced_.find(key);
      if (it != announced_.end() && it->second == wid) continue;
      for (auto& [name, r] : tools_) r.tool->on_new_target(key, wid);
    }
    announced_ = std::move(announce);
    // Leave alone the children the kernel followed (discovery will list them), unless
    // their workload is gone; drop what this code marked and no longer wants.
    std::set<std::uint32_t> live_ids;
    for (const auto& [name, wid] : ids_) live_ids.insert(wid);
    for (const auto& [tgid, wid] : known) {
      if (wanted.count(tgid) != 0) continue;
      if (live_ids.count(wid) == 0 || marked_.count(tgid) != 0) targets_->unmark(tgid);
    }
    marked_.clear();
    for (const auto& [tgid, wid] : wanted) marked_.insert(tgid);
  }

  // One tick of the duty cycle: attach or detach each tool as its duty says.
  Status sample(SteadyTime) override {
    const int tick = tick_++ % kTicksPerCycle;
    for (auto& [name, r] : tools_) {
      const bool want = tick < ebpf::attached_ticks(r.duty, kTicksPerCycle);
      if (want == r.tool->attached()) continue;
      const std::uint64_t now = ebpf::monotonic_ns();
      if (want) {
        if (auto st = r.tool->attach(); !st.ok()) {
          log_->warn("ebpf_{}: re-attach failed: {}", name, st.error().message);
          continue;
        }
        r.attached_since_ns = now;
      } else {
        r.tool->detach();
        r.attached_ns += static_cast<double>(now - r.attached_since_ns);
      }
    }
    return Ok{};
  }

  void contribute(SteadyTime, EvidenceSet& evidence) override {
    if (!targets_) return;
    const std::uint64_t now_ns = ebpf::monotonic_ns();
    const double window_ns = static_cast<double>(now_ns - window_start_ns_);
    ebpf::WindowContext ctx;
    ctx.start_ns = window_start_ns_;
    ctx.now_ns = now_ns;
    ctx.ids = &ids_;
    std::vector<ebpf::ToolCost> costs;
    for (auto& [name, r] : tools_) {
      if (r.tool->attached()) {
        r.attached_ns += static_cast<double>(now_ns - r.attached_since_ns);
        r.attached_since_ns = now_ns;
      }
      ctx.attached_fraction = window_ns > 0 ? std::min(1.0, r.attached_ns / window_ns) : 1.0;
      evidence.node.ebpf_duty[name] = ctx.attached_fraction;
      if (r.attached_ns > 0) r.tool->contribute(ctx, evidence);
      // Cost of this window: run time of the tool's programs, plus the surcharge per
      // run the stats cannot time, over its attached time.
      std::uint64_t run_ns = 0;
      std::uint64_t runs = 0;
      for (const auto& [prog, fd] : r.tool->programs()) {
        auto s = ebpf::program_run_stats(fd);
        auto& total = program_totals_[name + "/" + prog];
        run_ns += ebpf::delta(s.run_time_ns, total.last_run_ns);
        runs += ebpf::delta(s.run_count, total.last_runs);
        total.last_run_ns = s.run_time_ns;
        total.last_runs = s.run_count;
        if (stats_) {
          auto& out = evidence.node.bpf_programs[prog];
          out.run_seconds = static_cast<double>(s.run_time_ns) / 1e9;
          out.runs = s.run_count;
        }
      }
      if (r.attached_ns > 0) {
        r.cores = ebpf::cores_when_attached(static_cast<double>(run_ns), static_cast<double>(runs),
                                            r.attached_ns, options_.per_run_overhead_ns);
      }
      r.attached_ns = 0;
    }
    if (stats_) {
      for (const auto& [prog, fd] : targets_->programs()) {
        auto s = ebpf::program_run_stats(fd);
        evidence.node.bpf_programs[prog] = {static_cast<double>(s.run_time_ns) / 1e9, s.run_count};
      }
    }
    window_start_ns_ = now_ns;
    if (stats_) apply_budget();
  }

 private:
  struct Running {
    std::unique_ptr<Tool> tool;
    double duty = 1.0;
    std::uint64_t attached_since_ns = 0;  // valid while attached
    double attached_ns = 0;               // in the current window
    double cores = -1;                    // cost while attached, last window; -1 unknown
    int detached_windows = 0;
  };
  struct ProgramTotal {
    std::uint64_t last_run_ns = 0;
    std::uint64_t last_runs = 0;
  };

  void apply_budget() {
    std::vector<ebpf::ToolCost> order;
    for (const char* name : kShedOrder) {
      auto it = tools_.find(name);
      if (it != tools_.end()) order.push_back({name, it->second.cores});
    }
    auto plan = ebpf::plan_duty(order, options_.budget_cores);
    for (auto& [name, r] : tools_) {
      double d = plan.duty[name];
      if (d == 0 && ++r.detached_windows % kRetryDetachedWindows == 0) d = 0.05;
      if (d > 0) r.detached_windows = 0;
      if (d != r.duty) {
        if (d < 1 || r.duty < 1) {
          log_->info(
              "ebpf_{}: {:.5f} cores when attached (program time + {:g} ns per run); "
              "attached {:.0f}% of the time to stay within the budget of {:g} cores",
              name, r.cores, options_.per_run_overhead_ns, d * 100, options_.budget_cores);
        }
        r.duty = d;
      }
    }
  }

  // Stable small ids for the kernel's per-workload arrays; an id freed by a workload
  // that left is reused, and every tool is told so (its counters restart).
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
      for (auto& [tool_name, r] : tools_) r.tool->on_id_assigned(wid);
    }
  }

  CollectorSettings settings_;
  EbpfOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  std::unique_ptr<ebpf::TargetMaps> targets_;
  std::map<std::string, Running> tools_;  // by tool name
  std::vector<PartStatus> parts_;
  std::map<std::string, ProgramTotal> program_totals_;  // "tool/program"
  bool stats_ = false;
  bool full_warned_ = false;
  int tick_ = 0;
  std::uint64_t window_start_ns_ = 0;
  std::map<std::string, std::uint32_t> ids_;
  // Processes the tools were told of (on_new_target), with their workload id.
  std::map<ProcessKey, std::uint32_t> announced_;
  std::set<int> marked_;
};

}  // namespace

std::unique_ptr<Collector> make_ebpf_collector(const CollectorSettings& settings) {
  return std::make_unique<EbpfCollector>(settings);
}

}  // namespace boundwise
