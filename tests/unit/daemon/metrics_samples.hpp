// Helpers of the metrics tests (metrics_test.cpp, metrics_series_test.cpp): a parser
// of the text exposition good enough for the agent's own output, and a workload report
// and a snapshot with known values.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "classifier/classify.hpp"
#include "daemon/metrics.hpp"

namespace boundwise::test {

using Labels = std::map<std::string, std::string>;

// One parsed exposition line.
struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

inline std::vector<Sample> parse(const std::string& text) {
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    std::size_t i = line.find_first_of("{ ");
    s.name = line.substr(0, i);
    if (line[i] == '{') {
      ++i;
      while (line[i] != '}') {
        std::size_t eq = line.find('=', i);
        std::string key = line.substr(i, eq - i);
        std::string value;
        i = eq + 2;  // skip ="
        while (line[i] != '"') {
          if (line[i] == '\\') ++i;
          value += line[i++];
        }
        s.labels[key] = value;
        ++i;
        if (line[i] == ',') ++i;
      }
      ++i;
    }
    s.value = std::stod(line.substr(i + 1));
    out.push_back(s);
  }
  return out;
}

inline std::optional<double> value(const std::string& text, const std::string& name,
                                   const Labels& labels = {}) {
  for (const auto& s : parse(text)) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

inline std::size_t count_series(const std::string& text, const std::string& name,
                                const std::string& label, const std::string& label_value) {
  std::size_t n = 0;
  for (const auto& s : parse(text)) {
    auto it = s.labels.find(label);
    if (s.name == name && it != s.labels.end() && it->second == label_value) ++n;
  }
  return n;
}

inline WorkloadReport report(const std::string& name, double on_cpu, double net) {
  WorkloadReport r;
  r.name = name;
  r.pids = {10, 11, 12};
  r.threads = 7;
  WorkloadWindow w;
  w.workload = name;
  w.duration_seconds = 10;
  w.threads = 7;
  w.processes = 3;
  w.node.cores = 2;
  w.thread_seconds[index_of(Reason::on_cpu)] = on_cpu;
  w.thread_seconds[index_of(Reason::net)] = net;
  w.thread_seconds[index_of(Reason::idle)] = 70 - on_cpu - net;
  w.cpu_seconds = on_cpu;
  w.memory.rss_bytes = 300u << 20;
  w.memory.pss_bytes = 200u << 20;
  w.memory.uss_bytes = 150u << 20;
  if (net > 0) {
    DependencyWindow d;
    d.name = "orders-db";
    d.endpoint = "10.0.0.5:5432";
    d.wait_seconds = net;
    d.blocked_intervals_seconds = {0.1, 0.1, 0.3};
    w.dependencies.push_back(d);
  }
  finalize_window(w);
  r.verdict = classify(w);
  r.recommendation = recommend(*r.verdict, w);
  r.window = w;
  return r;
}

inline Snapshot snapshot_with(std::vector<WorkloadReport> workloads, double pressure_some = 5) {
  Snapshot s;
  s.host = "h";
  s.window_seconds = 10;
  s.node.cores = 2;
  s.node.cpu_busy_ratio = 0.45;
  s.node.load1 = 1.25;
  s.node.pressure_totals["cpu"] = PressureTotals{pressure_some, 0};
  s.node.pressure_totals["io"] = PressureTotals{pressure_some * 2, pressure_some};
  s.collectors = {CollectorStatus{"procfs", true, 0.004, ""},
                  CollectorStatus{"node", false, 0.5, "no /proc/pressure"}};
  s.workloads = std::move(workloads);
  return s;
}

}  // namespace boundwise::test
