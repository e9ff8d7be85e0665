// The overhead budget of the BPF programs (config `ebpf.budget_cores`, default 0.01:
// 1 % of one core for all programs together). Pure: the collector measures each
// tool's cost from the kernel's BPF run-time stats and applies the plan by attaching
// and detaching the tool's programs within each cycle (duty cycling).
//
// Run-time stats measure the time inside a program, not the tracepoint's own
// dispatch (a few ns per event); the budget is on what the stats can see.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace boundwise::ebpf {

struct ToolCost {
  std::string tool;
  // CPU cores the tool's programs use while attached (program seconds / attached
  // seconds); negative = not measured yet.
  double cores_when_attached = -1;
};

struct DutyPlan {
  std::map<std::string, double> duty;  // 0 = detached, 1 = always attached
};

// Tools are shed in the order given (first = cheapest to lose: syscalls before disk
// before net before sched): each is duty-cycled down, to no less than `min_duty`,
// before the next one is touched; if all of them at `min_duty` still exceed the
// budget, the fewest tools are detached, in the same order, for the rest to fit. A
// tool without a measurement keeps duty 1 (it cannot be judged yet).
DutyPlan plan_duty(const std::vector<ToolCost>& shed_order, double budget_cores,
                   double min_duty = 0.05);

// How many of `ticks` ticks of a cycle a tool with duty `d` is attached: 0 only for
// d = 0, otherwise at least 1.
int attached_ticks(double d, int ticks);

}  // namespace boundwise::ebpf
