#include "collectors/ebpf/budget.hpp"

#include <algorithm>
#include <cmath>

namespace boundwise::ebpf {

namespace {

// A tool costing less than this share of the budget is never duty-cycled: shedding it
// would save next to nothing and lose its data.
constexpr double kNegligibleShareOfBudget = 0.01;

// The first `detached` tools of the shed order off, the rest duty-cycled in order down
// to `min_duty` until the total fits. Returns whether it fits.
bool plan_with(const std::vector<ToolCost>& shed_order, std::size_t detached, double budget_cores,
               double min_duty, DutyPlan& plan) {
  double total = 0;
  for (std::size_t i = 0; i < shed_order.size(); ++i) {
    const auto& t = shed_order[i];
    plan.duty[t.tool] = i < detached ? 0.0 : 1.0;
    if (i >= detached && t.cores_when_attached > 0) total += t.cores_when_attached;
  }
  if (total <= budget_cores) return true;
  for (std::size_t i = detached; i < shed_order.size(); ++i) {
    const double c = shed_order[i].cores_when_attached;
    if (c <= kNegligibleShareOfBudget * budget_cores) continue;
    const double excess = total - budget_cores;
    if (c * (1.0 - min_duty) >= excess) {
      // This tool alone absorbs the rest: it fits exactly (no rounding left over to
      // make the plan look over budget).
      plan.duty[shed_order[i].tool] = 1.0 - excess / c;
      return true;
    }
    plan.duty[shed_order[i].tool] = min_duty;
    total -= c * (1.0 - min_duty);
  }
  return false;
}

}  // namespace

DutyPlan plan_duty(const std::vector<ToolCost>& shed_order, double budget_cores, double min_duty) {
  // Detach as few tools as possible: the first plan that fits wins.
  DutyPlan plan;
  for (std::size_t detached = 0; detached <= shed_order.size(); ++detached) {
    plan = {};
    if (plan_with(shed_order, detached, budget_cores, min_duty, plan)) break;
  }
  return plan;
}

double cores_when_attached(double run_ns, double runs, double attached_ns,
                           double per_run_overhead_ns) {
  if (!(attached_ns > 0)) return -1;
  return (run_ns + runs * per_run_overhead_ns) / attached_ns;
}

int attached_ticks(double d, int ticks) {
  if (!(d > 0)) return 0;
  // Rounded down, so that the cycle never spends more than the plan (to the nearest
  // tick, a tool planned at 23 % would be attached 25 % of the time: 9 % over the
  // budget). The epsilon keeps an exact 0.25 at 5 of 20 ticks.
  const double wanted = std::min(d, 1.0) * ticks;
  return std::clamp(static_cast<int>(std::floor(wanted + 1e-9)), 1, ticks);
}

}  // namespace boundwise::ebpf
