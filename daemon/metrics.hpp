// Prometheus publishing: turns each new Snapshot into series of a prometheus-cpp
// registry and renders them in the text exposition format. Counters accumulate the
// per-window deltas; series of workloads that disappeared are removed.
// Not thread-safe: used from the agent's collection thread only (the HTTP thread
// serves the text rendered there, never the publisher).
#pragma once

#include <memory>
#include <string>

#include "daemon/snapshot.hpp"

namespace boundwise {

class MetricsPublisher {
 public:
  MetricsPublisher();
  ~MetricsPublisher();
  MetricsPublisher(const MetricsPublisher&) = delete;
  MetricsPublisher& operator=(const MetricsPublisher&) = delete;

  // Call once per snapshot the agent publishes (after every window close). Adds the
  // window deltas of every workload that has a window to the counters, sets the
  // gauges, and removes the series of workloads absent from the snapshot.
  void publish(const Snapshot& snapshot);

  // Series beyond this many are not created. Groups of series are admitted in priority
  // order (docs/METRICS.md, "The series cap"): a workload's identity and verdict always,
  // then its detail, its latency histograms, its dependencies' counters and last their
  // histograms, while the registry holds fewer than max_series; a group already
  // exported keeps its series. What is left out counts in
  // boundwise_dropped_total{what="series"}, one per series.
  void set_max_series(std::size_t max_series);
  // Adds to boundwise_dropped_total{what}.
  void count_dropped(const std::string& what, double n);

  // The outcome of a configuration (re)load; a success also sets its timestamp.
  void set_config_reload(bool ok, double unix_time);

  // The exposition text (`text/plain; version=0.0.4`).
  std::string render() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace boundwise
