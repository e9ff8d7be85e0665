// Verdict stability (stability.hpp).
#include "classifier/stability.hpp"

#include <algorithm>

#include "classifier/numbers.hpp"

namespace boundwise {

Transition VerdictStability::observe(const Verdict& v, const Recommendation& r,
                                     double window_end_seconds, double window_seconds,
                                     const StabilityRule& rule, const WindowFigures& figures) {
  const double length = non_negative(window_seconds);
  Transition t = Transition::same;
  if (!published_) {
    published_ = v.bottleneck;
    stable_seconds_ = length;
    t = Transition::first;
  } else if (v.bottleneck == *published_) {
    pending_.reset();
    pending_windows_ = 0;
    stable_seconds_ += length;
  } else {
    pending_windows_ = pending_ == v.bottleneck ? pending_windows_ + 1 : 1;
    pending_ = v.bottleneck;
    stable_seconds_ += length;
    if (pending_windows_ >= std::max(1, rule.windows_to_change) ||
        v.confidence >= rule.change_confidence) {
      previous_ = published_;
      published_ = v.bottleneck;
      pending_.reset();
      pending_windows_ = 0;
      stable_seconds_ = length;
      ++changes_;
      t = Transition::changed;
    } else {
      t = Transition::pending;
    }
  }
  WindowResult result;
  result.end_seconds = window_end_seconds;
  result.bottleneck = v.bottleneck;
  result.confidence = v.confidence;
  result.model = r.model;
  result.workers = r.workers;
  result.cpu_cores_used = v.cpu_cores_used;
  for (Reason reason : kAllReasons) {
    const double share = v.busy_shares[index_of(reason)];
    if (share > result.top_share) {
      result.top_share = share;
      result.top_reason = reason;
    }
  }
  result.published = t != Transition::pending;
  result.figures = figures;
  history_.push_back(result);
  if (history_.size() > kHistoryWindows) {
    history_.erase(history_.begin(), history_.end() - kHistoryWindows);
  }
  return t;
}

}  // namespace boundwise
