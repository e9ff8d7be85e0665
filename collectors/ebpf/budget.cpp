#include "collectors/ebpf/budget.hpp"

#include <algorithm>
#include <cmath>

namespace boundwise::ebpf {

namespace {

// The first `detached` tools of the shed order off, the rest duty-cycled in order down
// to `min_duty` until the total fits. Returns the remaining total.
double plan_with(const std::vector<ToolCost>& shed_order, std::size_t detached, double budget_cores,
                 double min_duty, DutyPlan& plan) {
  double total = 0;
  for (std::size_t i = 0; i < shed_order.size(); ++i) {
    const auto& t = shed_order[i];
    plan.duty[t.tool] = i < detached ? 0.0 : 1.0;
    if (i >= detached && t.cores_when_attached > 0) total += t.cores_when_attached;
  }
  for (std::size_t i = detached; i < shed_order.size() && total > budget_cores; ++i) {
    const double c = shed_order[i].cores_when_attached;
    if (c <= 0) continue;
    const double d = std::max(min_duty, 1.0 - (total - budget_cores) / c);
    total -= c * (1.0 - d);
    plan.duty[shed_order[i].tool] = d;
  }
  return total;
}

}  // namespace

DutyPlan plan_duty(const std::vector<ToolCost>& shed_order, double budget_cores, double min_duty) {
  // Detach as few tools as possible: the first plan that fits wins.
  DutyPlan plan;
  for (std::size_t detached = 0; detached <= shed_order.size(); ++detached) {
    plan = {};
    if (plan_with(shed_order, detached, budget_cores, min_duty, plan) <= budget_cores) break;
  }
  return plan;
}

int attached_ticks(double d, int ticks) {
  if (!(d > 0)) return 0;
  return std::clamp(static_cast<int>(std::lround(d * ticks)), 1, ticks);
}

}  // namespace boundwise::ebpf
