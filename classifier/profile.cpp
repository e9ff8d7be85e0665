#include "classifier/profile.hpp"

namespace boundwise {

namespace {
constexpr std::size_t kMaxFrameBytes = 512;
}

std::string sanitize_frame(std::string_view name) {
  std::string out(name.substr(0, kMaxFrameBytes));
  for (char& c : out) {
    if (c == ';' || c == '\n' || c == '\r') c = '_';
  }
  return out;
}

void add_stack(FoldedStacks& into, const std::string& stack, std::uint64_t n,
               std::size_t max_stacks) {
  if (n == 0) return;
  auto it = into.counts.find(stack);
  if (it != into.counts.end()) {
    it->second += n;
  } else if (into.counts.size() < max_stacks) {
    into.counts.emplace(stack, n);
  } else {
    into.counts[std::string(kOtherStacks)] += n;
  }
  into.samples += n;
}

void merge(FoldedStacks& into, const FoldedStacks& from, std::size_t max_stacks) {
  for (const auto& [stack, n] : from.counts) add_stack(into, stack, n, max_stacks);
  into.taken += from.taken;
}

std::string render_folded(const FoldedStacks& stacks) {
  std::string out;
  for (const auto& [stack, n] : stacks.counts) {
    out += stack;
    out += ' ';
    out += std::to_string(n);
    out += '\n';
  }
  return out;
}

std::string reason_frame(Reason reason, std::string_view detail) {
  std::string out = "[";
  out += to_string(reason);
  if (!detail.empty()) {
    out += ' ';
    out += sanitize_frame(detail);
  }
  out += ']';
  return out;
}

std::optional<Reason> reason_of_stack(std::string_view folded) {
  const std::string_view root = folded.substr(0, folded.find(';'));
  if (root.size() < 3 || root.front() != '[' || root.back() != ']') return std::nullopt;
  const std::string_view inner = root.substr(1, root.size() - 2);
  return reason_from_string(inner.substr(0, inner.find(' ')));
}

FoldedStacks only_reason(const FoldedStacks& stacks, Reason reason) {
  FoldedStacks out;
  for (const auto& [stack, n] : stacks.counts) {
    if (reason_of_stack(stack) == reason) add_stack(out, stack, n, stacks.counts.size() + 1);
  }
  return out;
}

void RollingProfile::push(FoldedStacks window) {
  kept_.push_back(std::move(window));
  while (kept_.size() > windows_) kept_.pop_front();
}

FoldedStacks RollingProfile::total() const {
  FoldedStacks out;
  for (const auto& w : kept_) merge(out, w, max_stacks_);
  return out;
}

}  // namespace boundwise
