// A dependency's capacity as the workload's own history shows it (docs/CLASSIFIER.md,
// "Dependency capacity"): when the concurrency the workload puts on a dependency
// varied across its recent windows, did the dependency's latency rise with it? Rising
// latency is queueing at the dependency: more workers would wait there, not finish
// sooner. Flat latency over the range says it had capacity to spare. Pure.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "classifier/stability.hpp"

namespace boundwise {

namespace capacity {
// Windows of the dependency needed before anything is said: a third of them is then at
// least two windows at each end of the range.
inline constexpr int kMinWindows = 6;
// The busiest third's mean in flight over the quietest third's: below this the
// windows did not vary the concurrency enough to tell what more of it does.
inline constexpr double kMinSpread = 1.5;
// p95 at the busiest third over the quietest third at or above this, with in flight
// and p95 correlated at least kMinCorrelation, is a rise: larger than the window-to-
// window variation of a steady service's p95, and following the concurrency, not time.
inline constexpr double kRisingLatency = 1.5;
inline constexpr double kMinCorrelation = 0.7;
}  // namespace capacity

struct CapacitySignal {
  std::string dependency;
  int windows = 0;             // of the history that measured this dependency
  double low_in_flight = 0;    // mean threads waiting on it, the third of windows with least
  double high_in_flight = 0;   // ... and with most
  double low_p95_seconds = 0;  // mean p95 over the same windows
  double high_p95_seconds = 0;
  double correlation = 0;  // Pearson's, in flight against p95, over all the windows
  bool rising = false;     // latency rose with concurrency (the thresholds above)
};

// nullopt unless the history holds kMinWindows windows of `dependency` with a latency
// and their in-flight spread reaches kMinSpread.
std::optional<CapacitySignal> dependency_capacity(std::span<const WindowResult> history,
                                                  std::string_view dependency);

// For a person: "orders-db's p95 rose from 200 ms to 450 ms as threads waiting on it
// rose from 4.0 to 12.0 (12 windows, correlation 0.93)", or "... held at ...".
std::string capacity_text(const CapacitySignal& s);

}  // namespace boundwise
