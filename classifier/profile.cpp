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
