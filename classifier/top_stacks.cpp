#include "classifier/top_stacks.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "classifier/text.hpp"

namespace boundwise {

namespace {

// Frames every thread or program passes through (glibc's start_thread and clone on
// every thread, __libc_start_main on the main one): they say nothing about the code.
constexpr std::array<std::string_view, 9> kEntryFrames = {
    "_start",  "__libc_start_main", "__libc_start_call_main", "start_thread", "clone", "clone3",
    "__clone", "__clone3",          "__GI___clone3"};

bool is_entry(std::string_view frame) {
  return std::find(kEntryFrames.begin(), kEntryFrames.end(), frame) != kEntryFrames.end();
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// glibc's internal names for its public functions: __GI___libc_read, __libc_read and
// __read are all read(2)'s wrapper.
std::string_view public_name(std::string_view frame) {
  for (std::string_view prefix : {"__GI_", "__libc_", "__"}) {
    if (frame.size() > prefix.size() && frame.substr(0, prefix.size()) == prefix) {
      frame.remove_prefix(prefix.size());
    }
  }
  return frame;
}

// The detail of a reason frame: "[net postgres 1.2.3.4:5432]" → "postgres 1.2.3.4:5432".
std::string root_detail(std::string_view folded) {
  std::string_view root = folded.substr(0, folded.find(';'));
  auto space = root.find(' ');
  if (space == std::string_view::npos || root.size() < 2) return {};
  return std::string(root.substr(space + 1, root.size() - space - 2));
}

// "compute (/srv/app/app.py:42)" → "compute (app.py:42)".
std::string short_python_frame(std::string_view frame) {
  const auto open = frame.rfind(" (");
  const auto slash = frame.rfind('/');
  if (slash == std::string_view::npos || slash < open) return std::string(frame);
  return std::string(frame.substr(0, open + 2)) + std::string(frame.substr(slash + 1));
}

}  // namespace

bool is_python_frame(std::string_view frame) {
  if (frame.size() < 6 || frame.back() != ')') return false;
  const auto open = frame.rfind(" (");
  const auto colon = frame.rfind(':');
  if (open == std::string_view::npos || colon == std::string_view::npos || colon < open ||
      colon + 2 > frame.size() - 1) {
    return false;
  }
  for (char c : frame.substr(colon + 1, frame.size() - colon - 2)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::vector<std::string> frames_that_matter(std::string_view folded) {
  std::vector<std::string> root_first;
  bool python = false;
  for (std::string_view rest = folded; !rest.empty();) {
    const auto end = rest.find(';');
    if (is_python_frame(rest.substr(0, end))) python = true;
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  while (!folded.empty()) {
    const auto end = folded.find(';');
    std::string_view frame = folded.substr(0, end);
    folded = end == std::string_view::npos ? std::string_view() : folded.substr(end + 1);
    if (frame.empty() || ends_with(frame, "_[k]") || is_entry(frame)) continue;
    // The reason frame, [unknown], [partial], [libc.so.6]: not code.
    if (frame.front() == '[') continue;
    if (python && !is_python_frame(frame)) continue;
    std::string name = python ? short_python_frame(frame) : std::string(public_name(frame));
    if (!root_first.empty() && root_first.back() == name) continue;
    root_first.push_back(std::move(name));
  }
  std::vector<std::string> out(root_first.rbegin(), root_first.rend());
  if (out.size() > kTopStackFrames) out.resize(kTopStackFrames);
  return out;
}

std::vector<TopStack> top_stacks(const FoldedStacks& stacks, std::optional<Reason> reason,
                                 std::size_t n) {
  std::map<std::pair<std::string, std::vector<std::string>>, std::uint64_t> merged;
  std::uint64_t total = 0;
  for (const auto& [stack, count] : stacks.counts) {
    if (reason && reason_of_stack(stack) != reason) continue;
    total += count;
    if (stack == kOtherStacks) continue;
    auto frames = frames_that_matter(stack);
    if (frames.empty()) continue;
    merged[{reason ? root_detail(stack) : std::string(), std::move(frames)}] += count;
  }
  std::vector<std::pair<std::uint64_t, const std::pair<std::string, std::vector<std::string>>*>>
      order;
  order.reserve(merged.size());
  for (const auto& [key, count] : merged) order.emplace_back(count, &key);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<TopStack> out;
  for (std::size_t i = 0; i < order.size() && i < n; ++i) {
    TopStack t;
    t.reason = reason.value_or(Reason::on_cpu);
    t.detail = order[i].second->first;
    t.frames = order[i].second->second;
    t.share = static_cast<double>(order[i].first) / static_cast<double>(total);
    out.push_back(std::move(t));
  }
  return out;
}

std::optional<Reason> stacks_reason(Bottleneck verdict, const PerReason<double>& thread_seconds) {
  std::optional<Reason> own;
  switch (verdict) {
    case Bottleneck::cpu_bound:
    case Bottleneck::cpu_parallel:
    case Bottleneck::cpu_saturated:
      return Reason::on_cpu;
    case Bottleneck::gil_contended:
      own = Reason::gil;
      break;
    case Bottleneck::io_network:
      own = Reason::net;
      break;
    case Bottleneck::io_disk:
      own = Reason::disk;
      break;
    case Bottleneck::lock_contended:
      own = Reason::lock;
      break;
    default:
      break;
  }
  // The class's own wait when it has time (io_network also covers ipc waits, for one).
  if (own && std::isfinite(thread_seconds[index_of(*own)]) && thread_seconds[index_of(*own)] > 0) {
    return own;
  }
  std::optional<Reason> best;
  double most = 0;
  for (Reason r : kAllReasons) {
    if (r == Reason::on_cpu || r == Reason::runqueue || r == Reason::idle) continue;
    const double s = thread_seconds[index_of(r)];
    if (std::isfinite(s) && s > most) {
      most = s;
      best = r;
    }
  }
  return best;
}

std::vector<TopStack> verdict_stacks(Bottleneck verdict, const PerReason<double>& thread_seconds,
                                     const FoldedStacks* cpu, const FoldedStacks* offcpu,
                                     const FoldedStacks* gil) {
  auto reason = stacks_reason(verdict, thread_seconds);
  if (!reason) return {};
  if (*reason == Reason::gil && gil != nullptr && gil->samples > 0) {
    auto held = top_stacks(*gil, std::nullopt);
    for (auto& t : held) {
      t.reason = Reason::gil;
      t.gil_holder = true;
    }
    if (!held.empty()) return held;
  }
  if (*reason == Reason::on_cpu)
    return cpu ? top_stacks(*cpu, std::nullopt) : std::vector<TopStack>{};
  return offcpu ? top_stacks(*offcpu, reason) : std::vector<TopStack>{};
}

std::string describe(const TopStack& stack) {
  std::string chain;
  for (const auto& frame : stack.frames) {
    if (!chain.empty()) chain += " \u2190 ";
    chain += frame;
  }
  const auto percent = printf_string("%.0f %%", stack.share * 100.0);
  if (stack.reason == Reason::on_cpu) return "on-CPU " + percent + " in " + chain;
  if (stack.gil_holder) return "GIL held " + percent + " in " + chain;
  std::string what = std::string(to_string(stack.reason)) + " waits";
  if (!stack.detail.empty()) what += " on " + stack.detail;
  return what + " " + percent + " under " + chain;
}

}  // namespace boundwise
