#include "collectors/cgroup/cgroup_collector.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include "collectors/cgroup/cgroup_files.hpp"
#include "collectors/counter_delta.hpp"

namespace boundwise {

namespace {

// A small file's content; nullopt if it cannot be read (a process or cgroup gone).
std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return out.str();
}

// The quota at one cgroup directory, as cores; nullopt: none there.
std::optional<double> quota_at(const std::string& dir, bool v2) {
  if (v2) {
    auto text = read_file(dir + "/cpu.max");
    return text ? cgroup::parse_cpu_max(*text) : std::nullopt;
  }
  auto quota = read_file(dir + "/cpu.cfs_quota_us");
  auto period = read_file(dir + "/cpu.cfs_period_us");
  return quota && period ? cgroup::parse_cfs_quota(*quota, *period) : std::nullopt;
}

class CgroupCollector final : public Collector {
 public:
  explicit CgroupCollector(const CollectorSettings& settings)
      : proc_root_(settings.proc_root),
        log_(spdlog::get("cgroup") ? spdlog::get("cgroup") : spdlog::default_logger()) {}

  std::string_view name() const override { return "cgroup"; }
  std::chrono::nanoseconds period() const override { return std::chrono::nanoseconds(0); }

  Status start() override {
    auto mountinfo = read_file(proc_root_ + "/self/mountinfo");
    if (!mountinfo) return Error{"cannot read " + proc_root_ + "/self/mountinfo"};
    mounts_ = cgroup::parse_cpu_mounts(*mountinfo);
    if (mounts_.empty()) {
      return Error{"no cgroup hierarchy with the cpu controller is mounted (" + proc_root_ +
                   "/self/mountinfo lists none): CPU limits and throttling are not seen"};
    }
    for (const auto& m : mounts_) {
      log_->debug("cpu controller ({}) at {}", m.v2 ? "v2" : "v1", m.mount_point);
    }
    return Ok{};
  }

  void set_targets(const TargetSet& targets) override {
    targets_ = targets;
    const auto keep = workload_by_process(targets);
    for (auto it = cgroup_of_.begin(); it != cgroup_of_.end();) {
      it = keep.count(it->first) == 0 ? cgroup_of_.erase(it) : std::next(it);
    }
  }

  Status sample(SteadyTime) override { return Ok{}; }

  void contribute(SteadyTime, EvidenceSet& evidence) override {
    std::map<std::string, cgroup::CpuStat> read_now;
    for (const auto& w : targets_.workloads) {
      auto limit = workload_limit(w, read_now);
      if (limit) evidence.workloads[w.name].cpu_limit = std::move(*limit);
    }
    baselines_ = std::move(read_now);  // cgroups no longer binding a workload are forgotten
  }

 private:
  // The cgroup of one process, read once per process (processes rarely move).
  std::optional<cgroup::CpuCgroup> cgroup_of(const ProcessKey& key) {
    auto it = cgroup_of_.find(key);
    if (it != cgroup_of_.end()) return it->second;
    auto text = read_file(proc_root_ + "/" + std::to_string(key.pid) + "/cgroup");
    if (!text) return std::nullopt;  // gone: not cached, the next scan drops it
    auto parsed = cgroup::parse_proc_cgroup(*text);
    cgroup_of_.emplace(key, parsed);
    return parsed;
  }

  // The limit of the cgroup most of the workload's processes are in: the smallest quota
  // on its path up to the hierarchy's root, with that level's enforcement counters.
  std::optional<CpuLimit> workload_limit(const TargetWorkload& w,
                                         std::map<std::string, cgroup::CpuStat>& read_now) {
    std::map<std::pair<std::string, bool>, int> votes;
    for (const auto& key : w.processes) {
      if (auto c = cgroup_of(key)) ++votes[{c->path, c->v2}];
    }
    if (votes.empty()) return std::nullopt;
    auto best = votes.begin();
    for (auto it = votes.begin(); it != votes.end(); ++it) {
      if (it->second > best->second) best = it;
    }
    cgroup::CpuCgroup cg{best->first.first, best->first.second};
    std::optional<CpuLimit> out;
    std::string binding_dir;
    // Walk up: "/a/b/c", "/a/b", "/a", "/".
    for (std::string path = cg.path;;) {
      if (auto dir = cgroup::cgroup_dir(mounts_, {path, cg.v2})) {
        if (auto cores = quota_at(*dir, cg.v2); cores && (!out || *cores < out->cores)) {
          out = CpuLimit{};
          out->cores = *cores;
          out->cgroup = path;
          binding_dir = *dir;
        }
      }
      if (path == "/" || path.empty()) break;
      auto slash = path.rfind('/');
      path = slash == 0 ? "/" : path.substr(0, slash);
    }
    if (!out) return std::nullopt;
    auto text = read_file(binding_dir + "/cpu.stat");
    auto stat = text ? cgroup::parse_cpu_stat(*text) : std::nullopt;
    if (!stat) return out;
    read_now[binding_dir] = *stat;
    if (auto before = baselines_.find(binding_dir); before != baselines_.end()) {
      const auto& b = before->second;
      auto delta =
          counter_delta(std::array{stat->periods, stat->throttled_periods, stat->throttled_ns},
                        std::array{b.periods, b.throttled_periods, b.throttled_ns});
      if (delta) {
        out->counters_valid = true;
        out->periods = (*delta)[0];
        out->throttled_periods = (*delta)[1];
        out->throttled_seconds = static_cast<double>((*delta)[2]) / 1e9;
      }
    }
    return out;
  }

  std::string proc_root_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<cgroup::CpuMount> mounts_;
  TargetSet targets_;
  std::map<ProcessKey, std::optional<cgroup::CpuCgroup>> cgroup_of_;
  std::map<std::string, cgroup::CpuStat> baselines_;  // cpu.stat by directory, last window
};

}  // namespace

std::unique_ptr<Collector> make_cgroup_collector(const CollectorSettings& settings) {
  return std::make_unique<CgroupCollector>(settings);
}

}  // namespace boundwise
