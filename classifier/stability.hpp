// Verdict stability: a workload's published class changes only when the new class
// holds (docs/CLASSIFIER.md, "Stability"), and its recent windows are kept, bounded.
// Pure: the pipeline feeds each window's verdict and publishes what this says.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "classifier/figures.hpp"
#include "classifier/verdict.hpp"

namespace boundwise {

struct StabilityRule {
  // A different class takes effect after holding this many consecutive windows (1:
  // at once)...
  int windows_to_change = 2;
  // ...or at once when its confidence is at least this: evidence that strong is not a
  // window's noise.
  double change_confidence = 0.9;
};

// One window's result, as the history keeps it.
struct WindowResult {
  double end_seconds = 0;  // when the window closed, seconds since the Unix epoch
  Bottleneck bottleneck = Bottleneck::idle;
  double confidence = 0;
  Model model = Model::none;
  int workers = 0;
  double cpu_cores_used = 0;
  Reason top_reason = Reason::idle;  // the largest busy share, and its value
  double top_share = 0;
  bool published = true;  // false: a class change still pending, not shown
  WindowFigures figures;  // throughput, latency and resources, for baselines
};

// What observe() decided about a window's verdict.
enum class Transition {
  first,    // the workload's first verdict: published at once
  same,     // the class in effect again
  pending,  // a different class, not yet held long enough: the previous stays published
  changed,  // a different class took effect
};

class VerdictStability {
 public:
  static constexpr std::size_t kHistoryWindows = 60;

  // Feeds one window's verdict; says whether it is published.
  Transition observe(const Verdict& v, const Recommendation& r, double window_end_seconds,
                     double window_seconds, const StabilityRule& rule,
                     const WindowFigures& figures = {});

  std::optional<Bottleneck> published() const { return published_; }
  std::optional<Bottleneck> previous() const { return previous_; }
  std::optional<Bottleneck> pending() const { return pending_; }
  int pending_windows() const { return pending_windows_; }
  double stable_seconds() const { return stable_seconds_; }  // since `published` took effect
  std::uint64_t changes() const { return changes_; }
  const std::vector<WindowResult>& history() const { return history_; }  // oldest first

 private:
  std::optional<Bottleneck> published_;
  std::optional<Bottleneck> previous_;
  std::optional<Bottleneck> pending_;
  int pending_windows_ = 0;
  double stable_seconds_ = 0;
  std::uint64_t changes_ = 0;
  std::vector<WindowResult> history_;
};

}  // namespace boundwise
