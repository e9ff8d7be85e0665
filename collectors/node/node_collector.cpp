// The node collector: reads /proc/stat, /proc/loadavg and /proc/pressure/* once per
// window and turns (previous, current, elapsed) into ratios; counters that went
// backwards give no value for that window.
#include "collectors/node/node_collector.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "collectors/counter_delta.hpp"
#include "collectors/procfs/parse.hpp"

namespace boundwise {

namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class NodeCollector final : public Collector {
 public:
  explicit NodeCollector(const CollectorSettings& settings) : root_(settings.proc_root) {}

  std::string_view name() const override { return "node"; }
  std::chrono::nanoseconds period() const override { return std::chrono::nanoseconds(0); }
  void set_targets(const TargetSet&) override {}
  Status sample(SteadyTime) override { return Ok{}; }

  Status start() override {
    auto stat = read_stat();
    if (!stat) return Error{stat.error().message};
    previous_cpu_ = stat->cpu;
    previous_pressure_ = read_pressures();
    previous_time_ = std::chrono::steady_clock::now();
    return Ok{};
  }

  void contribute(SteadyTime now, EvidenceSet& evidence) override {
    NodeWindow& node = evidence.node;
    double elapsed = std::chrono::duration<double>(now - previous_time_).count();
    previous_time_ = now;
    if (auto stat = read_stat()) {
      node.cores = stat->cpu_count;
      const auto& cur = stat->cpu;
      if (previous_cpu_) {
        auto busy = counter_delta(cur.busy(), previous_cpu_->busy());
        auto total = counter_delta(cur.total(), previous_cpu_->total());
        if (busy && total && *total > 0) {
          node.cpu_busy_ratio = static_cast<double>(*busy) / static_cast<double>(*total);
        }
      }
      previous_cpu_ = cur;
    } else {
      spdlog::get("node") ? spdlog::get("node")->warn("{}", stat.error().message)
                          : spdlog::warn("node: {}", stat.error().message);
    }
    if (auto text = read_file(root_ + "/loadavg")) {
      if (auto load = procfs::parse_loadavg(*text)) {
        node.load1 = load->load1;
        node.runnable_tasks = load->running;
      }
    }
    auto pressures = read_pressures();
    node.pressure_available = !pressures.empty();
    for (const auto& [resource, p] : pressures) {
      node.pressure_totals[resource] = PressureTotals{p.some_total_seconds, p.full_total_seconds};
      auto before = previous_pressure_.find(resource);
      if (before == previous_pressure_.end() || elapsed <= 0) continue;
      auto some = counter_delta(p.some_total_seconds, before->second.some_total_seconds);
      auto full = counter_delta(p.full_total_seconds, before->second.full_total_seconds);
      if (!some || !full) continue;
      double some_share = std::min(1.0, *some / elapsed);
      if (resource == "cpu") node.cpu_pressure_some = some_share;
      if (resource == "io") node.io_pressure_some = some_share;
      if (resource == "memory") {
        node.memory_pressure_some = some_share;
        node.memory_pressure_full = std::min(1.0, *full / elapsed);
      }
    }
    previous_pressure_ = std::move(pressures);
  }

 private:
  Result<procfs::ProcStat> read_stat() const {
    auto text = read_file(root_ + "/stat");
    if (!text) return Error{"read " + root_ + "/stat: cannot open"};
    auto stat = procfs::parse_proc_stat(*text);
    if (!stat) return Error{root_ + "/stat: " + stat.error().message};
    return stat;
  }

  std::map<std::string, procfs::Pressure> read_pressures() const {
    std::map<std::string, procfs::Pressure> out;
    for (const char* resource : {"cpu", "io", "memory"}) {
      auto text = read_file(root_ + "/pressure/" + resource);
      if (!text) continue;
      if (auto p = procfs::parse_pressure(*text)) out[resource] = *p;
    }
    return out;
  }

  std::string root_;
  std::optional<procfs::CpuTimes> previous_cpu_;
  std::map<std::string, procfs::Pressure> previous_pressure_;
  SteadyTime previous_time_{};
};

}  // namespace

std::unique_ptr<Collector> make_node_collector(const CollectorSettings& settings) {
  return std::make_unique<NodeCollector>(settings);
}

}  // namespace boundwise
