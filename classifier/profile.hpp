// Folded stacks, the profile vocabulary: "root;caller;leaf COUNT" per line, the input
// of flamegraph.pl, speedscope and the agent's own flame graph. The stacks collector
// emits one FoldedStacks per workload and window (evidence.hpp, StackEvidence); the
// agent keeps the last windows of each workload in a RollingProfile for GET /profile.
// Pure, and bounded: a FoldedStacks holds at most `max_stacks` distinct stacks, the
// samples of any further stack counted under kOtherStacks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "classifier/reason.hpp"

namespace boundwise {

// Distinct stacks kept per workload (in one window and in a rolling profile).
inline constexpr std::size_t kMaxProfileStacks = 5000;

// The stack that samples of stacks beyond the bound are counted under.
inline constexpr std::string_view kOtherStacks = "[other stacks]";

struct FoldedStacks {
  // Folded stack (root first) → its count: samples (on-CPU), probes (GIL holder) or
  // milliseconds blocked (off-CPU stacks, each weighing the time it stands for).
  std::map<std::string, std::uint64_t> counts;
  std::uint64_t samples = 0;  // the sum of counts
  // How many stacks were taken (a sample, a probe, an off-CPU stack each), which the
  // counts' sum is not for off-CPU stacks. Kept by the stacks collector and merge();
  // 0 when not known (a recording from before it, a profile cut by only_reason).
  std::uint64_t taken = 0;

  bool operator==(const FoldedStacks&) const = default;
};

// A frame name made safe for the folded format: ';' (the frame separator) and line
// breaks become '_', and a name longer than 512 bytes is cut.
std::string sanitize_frame(std::string_view name);

// Adds `n` samples of `stack`. A stack not yet counted when `into` already holds
// `max_stacks` distinct stacks is counted under kOtherStacks instead (which may make
// max_stacks + 1 entries).
void add_stack(FoldedStacks& into, const std::string& stack, std::uint64_t n,
               std::size_t max_stacks);

// Every stack of `from` added to `into` (add_stack's bound applies), and its `taken`.
void merge(FoldedStacks& into, const FoldedStacks& from, std::size_t max_stacks);

// "stack count\n" per stack, in the map's order (by stack); "" when empty.
std::string render_folded(const FoldedStacks& stacks);

// Off-CPU stacks carry the reason of the wait as their root frame: "[ipc]", "[lock]",
// "[net postgres 127.0.0.1:5432]" (net names its dependency when one socket is known).
// So one FoldedStacks holds every reason, and a flame graph splits by reason first.
std::string reason_frame(Reason reason, std::string_view detail = {});
// The reason named by a folded stack's root frame; nullopt when it names none.
std::optional<Reason> reason_of_stack(std::string_view folded);
// The stacks of `stacks` whose root frame names `reason`.
FoldedStacks only_reason(const FoldedStacks& stacks, Reason reason);

// The last `windows` windows' stacks of one workload.
class RollingProfile {
 public:
  RollingProfile(std::size_t windows, std::size_t max_stacks)
      : windows_(windows == 0 ? 1 : windows), max_stacks_(max_stacks) {}
  // Adds a window's stacks, forgetting the oldest window beyond the count.
  void push(FoldedStacks window);
  // The sum over the windows kept (bounded by max_stacks as add_stack is).
  FoldedStacks total() const;
  std::size_t windows() const { return kept_.size(); }
  // The newest window's counts' sum, and its stacks taken; 0 before the first.
  std::uint64_t last_samples() const { return kept_.empty() ? 0 : kept_.back().samples; }
  std::uint64_t last_taken() const { return kept_.empty() ? 0 : kept_.back().taken; }

 private:
  std::size_t windows_;
  std::size_t max_stacks_;
  std::deque<FoldedStacks> kept_;
};

}  // namespace boundwise
