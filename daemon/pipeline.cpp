#include "daemon/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "classifier/classify.hpp"
#include "classifier/figures.hpp"
#include "collectors/process/process_images.hpp"
#include "collectors/registry.hpp"
#include "collectors/stacks/stacks_collector.hpp"

namespace boundwise {

namespace {

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  auto l = spdlog::get(name);
  return l ? l : spdlog::default_logger();
}

double seconds_since(Pipeline::Clock::time_point t0) {
  return std::chrono::duration<double>(Pipeline::Clock::now() - t0).count();
}

}  // namespace

Pipeline::Pipeline(const Config& config, StageCpu& stage_cpu)
    : config_(config), stage_cpu_(stage_cpu) {
  CollectorSettings settings;
  settings.proc_root = config.proc_root;
  settings.sample_rate_hz = config.sample_rate_hz;
  settings.max_open_files = config.max_open_files;
  settings.collectors_enabled = config.collectors_enabled;
  settings.options = config.collector_options;
  settings.dependencies = config.dependencies;
  // One cache for all collectors: each process's ELF is read once, not per collector.
  settings.process_images = std::make_shared<process::ProcessImages>(settings.proc_root);
  auto log = logger("agent");
  const double profile_seconds =
      static_cast<double>(settings.options_for(stacks_descriptor()).integer("profile_seconds"));
  const double window_seconds = std::chrono::duration<double>(config.window).count();
  profile_windows_ = window_seconds > 0
                         ? static_cast<std::size_t>(std::ceil(profile_seconds / window_seconds))
                         : 1;
  for (const auto* descriptor : collector_descriptors()) {
    const std::string& name = descriptor->name;
    auto enabled = config.collectors_enabled.find(name);
    if (enabled != config.collectors_enabled.end() ? !enabled->second
                                                   : !descriptor->enabled_by_default) {
      log->info("collector {}: disabled by configuration", name);
      continue;
    }
    Slot slot;
    slot.collector = descriptor->factory(settings);
    slot.status.name = name;
    auto t0 = Clock::now();
    Status st = slot.collector->start();
    slot.status.last_duration_seconds = seconds_since(t0);
    slot.started = st.ok();
    slot.status.up = st.ok();
    if (st.ok()) {
      log->info("collector {}: up", name);
    } else {
      slot.status.error = st.error().message;
      log->warn("collector {}: down: {}", name, slot.status.error);
    }
    slots_.push_back(std::move(slot));
  }
}

void Pipeline::set_targets(TargetSet targets, std::map<std::string, WorkloadFacts> facts,
                           Clock::time_point now) {
  targets_ = std::move(targets);
  facts_ = std::move(facts);
  std::map<std::string, Clock::time_point> seen;
  for (const auto& w : targets_.workloads) {
    auto it = first_seen_.find(w.name);
    seen[w.name] = it != first_seen_.end() ? it->second : now;
    if (it == first_seen_.end()) {
      logger("discovery")->info("workload {}: {} processes", w.name, w.processes.size());
    }
  }
  for (const auto& [name, when] : first_seen_) {
    if (seen.count(name) == 0) logger("discovery")->info("workload {}: gone", name);
  }
  first_seen_ = std::move(seen);
  for (auto it = published_.begin(); it != published_.end();) {
    it = first_seen_.count(it->first) == 0 ? published_.erase(it) : std::next(it);
  }
  for (auto it = last_state_.begin(); it != last_state_.end();) {
    it = first_seen_.count(it->first) == 0 ? last_state_.erase(it) : std::next(it);
  }
  for (auto& slot : slots_) {
    if (slot.started) slot.collector->set_targets(targets_);
  }
}

// A started collector is reported down for a window in which every sampling round
// failed (its source is gone: proc_root unmounted, a file it needs unreadable), with
// the last failure as the reason, and up again from the first window with a success.
void Pipeline::update_status(Slot& slot, double duration) {
  const double period =
      slot.collector ? std::chrono::duration<double>(slot.collector->period()).count() : 0;
  if (period > 0 && duration > 0) {
    CollectorStatus& st = slot.status;
    st.rounds_per_second = 1 / period;
    st.achieved_rounds_per_second = static_cast<double>(slot.window_rounds) / duration;
    st.rounds += slot.window_rounds;
    // A round that ends the window just after it closes counts in the next: a margin
    // of one round on top of the share.
    const bool behind = static_cast<double>(slot.window_rounds) + 1 <
                        CollectorStatus::kBehindShare * duration / period;
    if (behind && !st.behind) {
      logger("agent")->warn(
          "collector {}: sampling fell behind: {:.1f} of {:g} rounds per second in the last "
          "window (the last took {:.0f} ms; is the agent's CPU limited or the node "
          "saturated?); late rounds are skipped and the verdicts rest on fewer samples",
          st.name, st.achieved_rounds_per_second, st.rounds_per_second,
          st.last_duration_seconds * 1e3);
    } else if (!behind && st.behind) {
      logger("agent")->info("collector {}: sampling caught up: {:.1f} rounds per second", st.name,
                            st.achieved_rounds_per_second);
    }
    st.behind = behind;
    st.lateness = slot.window_lateness;
  }
  if (slot.window_rounds > 0) {
    const bool all_failed = slot.window_failures == slot.window_rounds;
    if (all_failed && slot.status.up) {
      logger("agent")->warn("collector {}: down for this window: all {} sampling rounds failed: {}",
                            slot.status.name, slot.window_rounds, slot.status.error);
    } else if (!all_failed && !slot.status.up) {
      logger("agent")->info("collector {}: up again", slot.status.name);
    }
    slot.status.up = !all_failed;
    if (!all_failed) slot.status.error.clear();
  }
  slot.window_rounds = 0;
  slot.window_failures = 0;
  slot.window_lateness = {};
}

void Pipeline::sample(Slot& slot, double lateness_seconds) {
  StageClock clock(stage_cpu_["sampling"]);
  auto t0 = Clock::now();
  slot.window_lateness.add(lateness_seconds);
  Status st = slot.collector->sample(t0);
  slot.status.last_duration_seconds = seconds_since(t0);
  ++slot.window_rounds;
  if (!st.ok()) {
    ++slot.window_failures;
    if (slot.failures++ % 100 == 0) {
      logger("agent")->warn("collector {}: sample failed: {} ({} failures so far)",
                            slot.status.name, st.error().message, slot.failures);
    }
    slot.status.error = st.error().message;
  }
}

EvidenceSet Pipeline::collect_evidence(Clock::time_point now, double duration) {
  StageClock clock(stage_cpu_["sampling"]);
  EvidenceSet evidence;
  for (const auto& w : targets_.workloads) {
    auto& e = evidence.workloads[w.name];
    e.workload = w.name;
    e.duration_seconds = duration;
  }
  for (auto& slot : slots_) {
    if (!slot.started) continue;
    update_status(slot, duration);
    auto t0 = Clock::now();
    slot.collector->contribute(now, evidence);
    if (slot.collector->period().count() == 0)
      slot.status.last_duration_seconds = seconds_since(t0);
  }
  return evidence;
}

Pipeline::Closed Pipeline::close(Clock::time_point now, double duration, const Snapshot& base) {
  Closed out;
  out.evidence = collect_evidence(now, duration);
  keep_profiles(out.evidence);
  out.rules = AssembleRules{config_.dependencies, config_.max_dependencies_per_workload};
  std::map<std::string, WorkloadWindow> windows;
  {
    StageClock clock(stage_cpu_["assembly"]);
    windows = assemble(out.evidence, out.rules);
  }
  for (const auto& [name, win] : windows) {
    for (const auto& d : win.dependencies) out.folded_dependencies += d.folded;
  }
  StageClock clock(stage_cpu_["classify"]);
  out.snapshot = judge(windows, out.evidence.node, now, duration, base);
  return out;
}

void Pipeline::keep_profiles(EvidenceSet& evidence) {
  for (auto* kept : {&profiles_, &offcpu_profiles_, &gil_profiles_}) {
    for (auto it = kept->begin(); it != kept->end();) {
      it = evidence.workloads.count(it->first) == 0 ? kept->erase(it) : std::next(it);
    }
  }
  for (const auto& [name, e] : evidence.workloads) {
    if (e.cpu_stacks) {
      profiles_.try_emplace(name, profile_windows_, kMaxProfileStacks)
          .first->second.push(*e.cpu_stacks);
    }
    if (e.offcpu_stacks) {
      offcpu_profiles_.try_emplace(name, profile_windows_, kMaxProfileStacks)
          .first->second.push(*e.offcpu_stacks);
    }
    if (e.gil_stacks) {
      gil_profiles_.try_emplace(name, profile_windows_, kMaxProfileStacks)
          .first->second.push(*e.gil_stacks);
    }
  }
}

// The next snapshot: every target workload with its verdict and recommendation.
std::shared_ptr<Snapshot> Pipeline::judge(std::map<std::string, WorkloadWindow>& windows,
                                          const NodeWindow& node, Clock::time_point now,
                                          double duration, const Snapshot& base) {
  auto next = std::make_shared<Snapshot>(base);
  next->node = node;
  for (const auto& slot : slots_) {
    next->collectors.push_back(slot.status);
    if (!slot.started) continue;
    for (const auto& part : slot.collector->parts()) {
      next->collectors.push_back({part.name, part.up, 0, part.error});
    }
  }
  std::set<std::string> running;
  const double end_seconds =
      std::chrono::duration<double>(base.generated_at.time_since_epoch()).count();
  for (const auto& w : targets_.workloads) {
    next->workloads.push_back(make_report(w, windows[w.name], now, duration, end_seconds));
    if (auto p = profiles_.find(w.name); p != profiles_.end()) {
      next->workloads.back().cpu_profile = std::make_shared<const FoldedStacks>(p->second.total());
      next->workloads.back().cpu_profile_window_samples = p->second.last_samples();
    }
    if (auto p = offcpu_profiles_.find(w.name); p != offcpu_profiles_.end()) {
      next->workloads.back().offcpu_profile =
          std::make_shared<const FoldedStacks>(p->second.total());
      next->workloads.back().offcpu_profile_window_stacks = p->second.last_taken();
      next->workloads.back().offcpu_profile_window_ms = p->second.last_samples();
    }
    if (auto p = gil_profiles_.find(w.name); p != gil_profiles_.end()) {
      next->workloads.back().gil_profile = std::make_shared<const FoldedStacks>(p->second.total());
      next->workloads.back().gil_profile_window_probes = p->second.last_samples();
    }
    if (auto& r = next->workloads.back(); r.verdict && r.window && r.cpu_profile) {
      r.top_stacks =
          verdict_stacks(r.verdict->bottleneck, r.window->thread_seconds, r.cpu_profile.get(),
                         r.offcpu_profile.get(), r.gil_profile.get());
    }
    running.insert(w.name);
  }
  for (const auto& selector : config_.targets) {
    if (running.count(selector.name) != 0) {
      absent_since_.erase(selector.name);
      continue;
    }
    auto since = absent_since_.emplace(selector.name, base.generated_at).first->second;
    if (since == base.generated_at) {
      logger("discovery")->warn("workload {}: no live process matches its selector", selector.name);
    }
    WorkloadReport absent;
    absent.name = selector.name;
    absent.state = WorkloadState::absent;
    absent.absent_since = since;
    next->workloads.push_back(std::move(absent));
  }
  std::sort(next->workloads.begin(), next->workloads.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return next;
}

// One workload's report for the window just closed: classified and recommended
// unless it was discovered too late in the window to judge (under half of it seen).
WorkloadReport Pipeline::make_report(const TargetWorkload& w, const WorkloadWindow& win,
                                     Clock::time_point now, double duration, double end_seconds) {
  WorkloadReport out;
  out.name = w.name;
  out.pod = w.pod;
  for (const auto& key : w.processes) out.pids.push_back(key.pid);
  auto facts = facts_.find(w.name);
  const WorkloadFacts f = facts != facts_.end() ? facts->second : WorkloadFacts{};
  out.threads = f.threads;
  if (f.processes > 0 && f.zombie == f.processes) {
    out.state = WorkloadState::defunct;
    out.state_detail = fmt::format(
        "defunct: {} exited but not reaped by {} parent (zombie); nothing runs — the "
        "parent must wait() for it, or restart the service",
        f.processes == 1 ? "its process" : fmt::format("all {} processes", f.processes),
        f.processes == 1 ? "its" : "their");
  } else if (f.stopped > 0 && f.stopped + f.zombie == f.processes) {
    out.state = WorkloadState::stopped;
    out.state_detail = fmt::format(
        "stopped: {} stopped by a signal (SIGSTOP, SIGTSTP) or held by a debugger; nothing "
        "runs — resume with SIGCONT (kill -CONT {}) or detach the debugger",
        f.stopped == 1 ? "its process is" : fmt::format("all {} processes are", f.stopped),
        w.processes.empty() ? 0 : w.processes.front().pid);
  }
  auto& last_state = last_state_[w.name];
  if (out.state != last_state && out.state != WorkloadState::running) {
    logger("agent")->warn("workload {}: {}", w.name, out.state_detail);
  }
  last_state = out.state;
  if (out.state != WorkloadState::running) {
    published_.erase(w.name);  // its next verdict is a first one, published at once
    return out;
  }
  auto seen = first_seen_.find(w.name);
  bool enough = seen != first_seen_.end() &&
                std::chrono::duration<double>(now - seen->second).count() >= duration * 0.5;
  if (!enough) return out;
  Verdict verdict = classify(win);
  DecisionInputs inputs{.prices = config_.cost};
  for (const auto& selector : config_.targets) {
    if (selector.name == w.name) inputs.objective = selector.slo;
  }
  if (auto p = published_.find(w.name); p != published_.end()) {
    inputs.history = p->second.stability.history();
  }
  out.recommendation = recommend(verdict, win, inputs);
  out.verdict = std::move(verdict);
  out.window = win;
  stabilise(w.name, out, end_seconds, duration);
  return out;
}

void Pipeline::stabilise(const std::string& workload, WorkloadReport& out, double end_seconds,
                         double duration) {
  auto& p = published_[workload];
  const StabilityRule rule{.windows_to_change = config_.verdict_change_windows};
  const Verdict& v = *out.verdict;
  const Recommendation& r = *out.recommendation;
  const auto before = p.stability.published();
  switch (
      p.stability.observe(v, r, end_seconds, duration, rule, window_figures(*out.window, v, r))) {
    case Transition::first:
      logger("agent")->info("workload {}: {} (confidence {:.2f}) → {}: {}", workload,
                            to_string(v.bottleneck), v.confidence, to_string(r.model), r.summary);
      break;
    case Transition::changed:
      logger("agent")->info("workload {}: {} → {} (confidence {:.2f}) → {}: {}; {}", workload,
                            to_string(*before), to_string(v.bottleneck), v.confidence,
                            to_string(r.model), r.summary,
                            r.steps.empty() ? std::string() : r.steps.front());
      break;
    case Transition::pending:
      logger("agent")->debug("workload {}: {} seen ({} window(s)), {} stays published", workload,
                             to_string(v.bottleneck), p.stability.pending_windows(),
                             to_string(*before));
      if (p.verdict) {
        out.verdict = p.verdict;
        out.recommendation = p.recommendation;
      }
      break;
    case Transition::same:
      break;
  }
  if (p.stability.history().back().published) {
    p.verdict = out.verdict;
    p.recommendation = out.recommendation;
  }
  StabilityReport report;
  report.stable_for_seconds = p.stability.stable_seconds();
  report.previous_class = p.stability.previous();
  report.pending_class = p.stability.pending();
  report.pending_windows = p.stability.pending_windows();
  report.changes = p.stability.changes();
  report.history.assign(p.stability.history().begin(), p.stability.history().end());
  out.stability = std::move(report);
}

}  // namespace boundwise
