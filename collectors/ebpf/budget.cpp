#include "collectors/ebpf/budget.hpp"

#include <algorithm>
#include <cmath>

namespace boundwise::ebpf {

DutyPlan plan_duty(const std::vector<ToolCost>& shed_order, double budget_cores,
                   double min_duty) {
  DutyPlan plan;
  double total = 0;
  for (const auto& t : shed_order) {
    plan.duty[t.tool] = 1.0;
    if (t.cores_when_attached > 0) total += t.cores_when_attached;
  }
  // Pass 1: duty-cycle, cheapest loss first.
  for (const auto& t : shed_order) {
    if (total <= budget_cores) break;
    const double c = t.cores_when_attached;
    if (c <= 0) continue;
    const double over = total - budget_cores;
    const double d = std::max(min_duty, 1.0 - over / c);
    total -= c * (1.0 - d);
    plan.duty[t.tool] = d;
  }
  // Pass 2: still over with every tool at its floor: detach, same order.
  for (const auto& t : shed_order) {
    if (total <= budget_cores) break;
    const double c = t.cores_when_attached;
    if (c <= 0) continue;
    total -= c * plan.duty[t.tool];
    plan.duty[t.tool] = 0;
  }
  plan.over_budget = total > budget_cores;
  return plan;
}

int attached_ticks(double d, int ticks) {
  if (!(d > 0)) return 0;
  return std::clamp(static_cast<int>(std::lround(d * ticks)), 1, ticks);
}

}  // namespace boundwise::ebpf
