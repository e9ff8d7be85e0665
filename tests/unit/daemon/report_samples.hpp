// A classified snapshot for the endpoint and exposition tests: workloads with a share of
// their thread time waiting on one dependency, the rest on CPU.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "classifier/classify.hpp"
#include "daemon/snapshot.hpp"

namespace boundwise::test {

// A classified workload: `net_share` of 90 thread-seconds waiting on one dependency
// (three waits of 0.2-0.22 s), the rest on CPU.
inline WorkloadReport report(const std::string& name, double net_share) {
  WorkloadReport r;
  r.name = name;
  r.pids = {4242, 4250};
  r.threads = 9;
  WorkloadWindow w;
  w.workload = name;
  w.duration_seconds = 10;
  w.sample_rounds = 200;
  w.threads = 9;
  w.processes = 2;
  w.node.cores = 2;
  w.node.cpu_busy_ratio = 0.3;
  w.thread_seconds[index_of(Reason::net)] = 90 * net_share;
  w.thread_seconds[index_of(Reason::on_cpu)] = 90 * (1 - net_share);
  w.cpu_seconds = 90 * (1 - net_share);
  DependencyWindow d;
  d.name = "orders-db";
  d.endpoint = "10.0.0.5:5432";
  d.wait_seconds = 90 * net_share;
  d.blocked_intervals_seconds = {0.2, 0.21, 0.22};
  w.dependencies.push_back(d);
  w.memory.rss_bytes = 100 << 20;
  finalize_window(w);
  r.verdict = classify(w);
  r.recommendation = recommend(*r.verdict, w);
  r.window = w;
  return r;
}

inline Snapshot snapshot_with(std::vector<WorkloadReport> reports) {
  Snapshot s;
  s.host = "web-3";
  s.window_seconds = 10;
  s.windows_completed = 1;
  s.node.cores = 2;
  s.node.cpu_busy_ratio = 0.3;
  s.node.pressure_totals["cpu"] = PressureTotals{12.5, 0};
  s.collectors.push_back(CollectorStatus{"procfs", true, 0.001, ""});
  s.workloads = std::move(reports);
  return s;
}

}  // namespace boundwise::test
