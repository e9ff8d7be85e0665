// Windows for the classifier's tests: thread time split by given shares, as a
// recorded window would have it.
#pragma once

#include <initializer_list>
#include <utility>

#include "classifier/classify.hpp"

namespace boundwise::test {

// A recorded-looking window: `threads` threads over 10 s, thread time split by the
// given busy shares plus an idle share of all time.
inline WorkloadWindow window(std::initializer_list<std::pair<Reason, double>> shares,
                             int threads = 4, double cores_used = -1) {
  WorkloadWindow w;
  w.workload = "w";
  w.duration_seconds = 10;
  w.sample_rounds = 200;
  w.threads = threads;
  w.processes = 1;
  w.node.cores = 2;
  w.node.cpu_busy_ratio = 0.5;
  double total = threads * 10.0;
  for (const auto& [r, s] : shares) w.thread_seconds[index_of(r)] = s * total;
  double on_cpu = w.thread_seconds[index_of(Reason::on_cpu)];
  w.cpu_seconds = cores_used >= 0 ? cores_used * 10 : on_cpu;
  return w;
}

inline Bottleneck cls(const WorkloadWindow& w) { return classify(w).bottleneck; }

}  // namespace boundwise::test
