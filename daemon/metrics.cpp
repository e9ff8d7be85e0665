// Prometheus publishing with prometheus-cpp's core registry and text serializer.
// Counters add each window's deltas; gauges are set; every series carries its
// workload so that a workload's series can all be removed when it disappears.
// This file holds the order of publishing, the series cap and the removal of what
// left; metrics_sections.cpp the sections of the exposition; metrics_state.hpp the
// families and the bookkeeping.
#include "daemon/metrics.hpp"

#include <prometheus/text_serializer.h>

#include <ctime>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "classifier/numbers.hpp"
#include "collectors/counter_delta.hpp"
#include "daemon/build_info.hpp"
#include "daemon/metrics_state.hpp"
#include "daemon/prometheus_util.hpp"

namespace boundwise {

namespace {

using prom::utf8;

// A dependency that has not been waited on for this many windows loses its series
// (5 minutes at the default 10 s window): auto-named dependencies churn, and the cap
// upstream bounds them per window, not over the agent's lifetime.
constexpr std::uint64_t kStaleDependencyWindows = 30;

}  // namespace

void MetricsPublisher::State::add_growth(Counter& counter, double total, double& last) {
  if (auto growth = counter_delta(total, last)) counter.Increment(*growth);
  last = total;
}

// The series `publish` would add to a State, counted on a scratch State that is
// emptied again: what max_series left out, exactly as a scraper would have counted it.
std::size_t MetricsPublisher::State::series_left_out(const std::function<void(State&)>& publish) {
  if (!scratch) scratch = std::make_unique<State>();
  publish(*scratch);
  const std::size_t n = scratch->series_count();
  for (auto& [name, removers] : scratch->workload_series) remove_all(removers);
  for (auto& [key, d] : scratch->dependency_series) remove_all(d.removers);
  scratch->workload_series.clear();
  scratch->dependency_series.clear();
  return n;
}

// Publishes a group of series that max_series may leave out: a group already exported
// always (no gaps in its graphs), a new one while the registry is under the cap;
// otherwise counts what it would have added. Returns whether it was published.
bool MetricsPublisher::State::admit(bool exported, const std::function<void(State&)>& publish) {
  if (exported || series_count() < max_series) {
    publish(*this);
    return true;
  }
  dropped_series += static_cast<double>(series_left_out(publish));
  return false;
}

// The groups max_series may leave out, for every workload with a window, one tier at
// a time in priority order (docs/METRICS.md, "The series cap").
void MetricsPublisher::State::publish_tiers(const Snapshot& snapshot) {
  std::vector<const WorkloadReport*> classified;
  for (const auto& r : snapshot.workloads) {
    if (r.state != WorkloadState::absent && r.window && r.verdict && r.recommendation &&
        workload_series.count(utf8(r.name)) != 0) {
      classified.push_back(&r);
    }
  }
  for (Tier tier : {Tier::detail, Tier::workload_latency}) {
    for (const WorkloadReport* r : classified) {
      const std::string name = utf8(r->name);
      const bool exported = admitted.count({name, tier}) != 0;
      const bool published = admit(exported, [&](State& st) {
        if (tier == Tier::detail) {
          publish_window(st, name, *r->window, *r->verdict);
          publish_memory(st, name, *r->window);
          publish_cpu_limit(st, name, *r->window);
          publish_runtime(st, name, *r->window);
        } else {
          publish_latency(st, name, *r->window);
        }
      });
      if (published) admitted.insert({name, tier});
    }
  }
  for (Tier tier : {Tier::dependencies, Tier::dependency_latency}) {
    for (const WorkloadReport* r : classified) {
      const std::string name = utf8(r->name);
      for (const auto& d : r->window->dependencies) {
        const std::string dependency = utf8(d.name);
        auto it = dependency_series.find({name, dependency});
        if (tier == Tier::dependencies) {
          admit(it != dependency_series.end(),
                [&](State& st) { publish_dependency(st, name, dependency, d); });
        } else {
          const auto publish = [&](State& st) {
            publish_dependency_latency(st, name, dependency, d);
          };
          if (it != dependency_series.end()) {
            admit(it->second.latency, publish);
          } else {  // its counters were left out: so are its histograms
            dropped_series += static_cast<double>(series_left_out(publish));
          }
        }
      }
    }
  }
}

// Series of workloads no longer present leave, with their dependencies, before the series cap
// admits new ones.
void MetricsPublisher::State::drop_absent(const std::set<std::string>& present) {
  State& s = *this;
  for (auto it = s.workload_series.begin(); it != s.workload_series.end();) {
    if (present.count(it->first) == 0) {
      State::remove_all(it->second);
      s.runtime_info_labels.erase(it->first);
      s.pod_info_labels.erase(it->first);
      s.verdict_changes_last.erase(it->first);
      s.admitted.erase({it->first, Tier::detail});
      s.admitted.erase({it->first, Tier::workload_latency});
      it = s.workload_series.erase(it);
    } else {
      ++it;
    }
  }
  // A workload's dependencies leave with it, before the series cap admits new ones.
  for (auto it = s.dependency_series.begin(); it != s.dependency_series.end();) {
    if (present.count(it->first.first) == 0) {
      State::remove_all(it->second.removers);
      it = s.dependency_series.erase(it);
    } else {
      ++it;
    }
  }
}

// Dependencies of absent workloads, and those not waited on for kStaleDependencyWindows.
void MetricsPublisher::State::prune_dependencies(const std::set<std::string>& present) {
  State& s = *this;
  for (auto it = s.dependency_series.begin(); it != s.dependency_series.end();) {
    bool gone = present.count(it->first.first) == 0 ||
                s.publishes - it->second.last_seen >= kStaleDependencyWindows;
    if (gone) {
      State::remove_all(it->second.removers);
      it = s.dependency_series.erase(it);
    } else {
      ++it;
    }
  }
}

MetricsPublisher::MetricsPublisher() : state_(std::make_unique<State>()) {
  const BuildInfo& build = build_info();
  state_->build_info
      .Add({{"version", std::string(build.version)},
            {"commit", std::string(build.commit)},
            {"build_type", std::string(build.build_type)},
            {"compiler", std::string(build.compiler)}})
      .Set(1);
  set_config_reload(true, static_cast<double>(std::time(nullptr)));
  for (const char* what : {"workloads", "dependencies", "series"}) count_dropped(what, 0);
  state_->windows.Add({});
  state_->publish_self();
}

MetricsPublisher::~MetricsPublisher() = default;

void MetricsPublisher::publish(const Snapshot& snapshot) {
  State& s = *state_;
  ++s.publishes;
  std::set<std::string> present;
  // An absent target keeps only boundwise_target_up (re-added below at 0).
  for (const auto& w : snapshot.workloads) {
    if (w.state == WorkloadState::running) present.insert(utf8(w.name));
  }
  s.drop_absent(present);
  // A workload's identity and verdict are never left out (max_workloads bounds them);
  // the rest is admitted tier by tier below.
  for (const auto& report : snapshot.workloads) {
    const std::string name = utf8(report.name);
    const bool absent = report.state == WorkloadState::absent;
    const bool live = !absent && report.state != WorkloadState::defunct;
    s.add(s.target_up, {{"workload", name}}, name).Set(live ? 1 : 0);
    if (absent) continue;  // nothing else to say of a target with no process
    s.add(s.stopped, {{"workload", name}}, name)
        .Set(report.state == WorkloadState::stopped ? 1 : 0);
    s.add(s.threads, {{"workload", name}}, name).Set(report.threads);
    s.add(s.processes, {{"workload", name}}, name)
        .Set(report.window ? report.window->processes : static_cast<double>(report.pids.size()));
    // From discovery, so published from the start like the two above. One series per
    // workload: a configured workload whose pod was replaced gets the new pod's.
    State::Labels pod_labels;
    if (report.pod) {
      pod_labels = {{"workload", name},
                    {"pod_uid", utf8(report.pod->pod_uid)},
                    {"container_id", utf8(report.pod->container_id)},
                    {"qos_class", utf8(report.pod->qos_class)}};
    }
    s.set_info(s.pod_info, s.pod_info_labels[name], pod_labels, name);
    if (report.cpu_profile) {
      s.add(s.profile_samples, {{"workload", name}, {"type", "cpu"}}, name)
          .Increment(static_cast<double>(report.cpu_profile_window_samples));
    }
    if (report.offcpu_profile) {
      s.add(s.profile_samples, {{"workload", name}, {"type", "offcpu"}}, name)
          .Increment(static_cast<double>(report.offcpu_profile_window_stacks));
      s.add(s.profile_offcpu_seconds, {{"workload", name}}, name)
          .Increment(static_cast<double>(report.offcpu_profile_window_ms) / 1000.0);
    }
    if (report.gil_profile) {
      s.add(s.profile_samples, {{"workload", name}, {"type", "gil"}}, name)
          .Increment(static_cast<double>(report.gil_profile_window_probes));
    }
    if (!report.window || !report.verdict || !report.recommendation) continue;
    State::publish_verdict(s, name, *report.verdict, *report.recommendation);
    if (report.stability) State::publish_stability(s, name, *report.stability);
    State::publish_objective(s, name, *report.recommendation);
  }
  s.dropped_series = 0;
  s.publish_tiers(snapshot);
  s.dropped.Add({{"what", "series"}}).Increment(s.dropped_series);
  s.prune_dependencies(present);
  State::publish_node(s, snapshot);
  for (const auto& c : snapshot.collectors) {
    s.collector_up.Add({{"collector", utf8(c.name)}}).Set(c.up ? 1 : 0);
    if (c.rounds_per_second > 0) {
      State::add_growth(s.collector_rounds.Add({{"collector", utf8(c.name)}}),
                        static_cast<double>(c.rounds), s.collector_rounds_last[c.name]);
      s.collector_behind.Add({{"collector", utf8(c.name)}}).Set(c.behind ? 1 : 0);
      State::add_histogram(s.sampling_lateness, {{"collector", utf8(c.name)}}, s.collector_series,
                           prom::kRunqueueBounds, c.lateness);
    }
    s.collector_duration.Add({{"collector", utf8(c.name)}})
        .Set(non_negative(c.last_duration_seconds));
  }
  for (const auto& [stage, seconds] : snapshot.stage_cpu_seconds) {
    State::add_growth(s.stage_seconds.Add({{"stage", stage}}), seconds, s.stage_last[stage]);
  }
  s.windows.Add({}).Increment();
  s.publish_self();
}

void MetricsPublisher::set_max_series(std::size_t max_series) { state_->max_series = max_series; }

void MetricsPublisher::count_dropped(const std::string& what, double n) {
  auto& counter = state_->dropped.Add({{"what", what}});
  if (n > 0) counter.Increment(n);
}

void MetricsPublisher::set_config_reload(bool ok, double unix_time) {
  state_->reload_ok.Add({}).Set(ok ? 1 : 0);
  if (ok) state_->reload_time.Add({}).Set(unix_time);
}

std::string MetricsPublisher::render() const {
  return prometheus::TextSerializer().Serialize(state_->registry.Collect());
}

}  // namespace boundwise