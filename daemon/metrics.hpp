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

  // Series beyond this many are not created: a workload not yet exported is left out
  // of /metrics once the registry holds max_series series.
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
