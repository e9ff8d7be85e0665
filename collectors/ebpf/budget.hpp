// The overhead budget of the BPF programs (config `ebpf.budget_cores`, default 0.01:
// 1 % of one core for all programs together). Pure: the collector measures each
// tool's cost from the kernel's BPF run-time stats and applies the plan by attaching
// and detaching the tool's programs within each cycle (duty cycling).
//
// Run-time stats time the inside of a program only. What a run costs the traced task
// beyond that (the tracepoint's dispatch, the stats' own two clock reads, the cache
// and TLB misses of the program and its maps) is charged as a fixed surcharge per run
// (config `ebpf.per_run_overhead_ns`): on a context-switch storm it is as large as the
// timed part (docs/BENCHMARKS.md).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace boundwise::ebpf {

struct ToolCost {
  std::string tool;
  // CPU cores the tool costs while attached (cores_when_attached); negative = not
  // measured yet.
  double cores_when_attached = -1;
};

struct DutyPlan {
  std::map<std::string, double> duty;  // 0 = detached, 1 = always attached
};

// CPU cores a tool costs while attached: its programs' run time plus the surcharge
// for each of their runs, over the time it was attached. -1 when it was not attached.
double cores_when_attached(double run_ns, double runs, double attached_ns,
                           double per_run_overhead_ns);

// Tools are shed in the order given (first = cheapest to lose: syscalls before disk
// before net before sched): each is duty-cycled down, to no less than `min_duty`,
// before the next one is touched; if all of them at `min_duty` still exceed the
// budget, the fewest tools are detached, in the same order, for the rest to fit. A
// tool without a measurement keeps duty 1 (it cannot be judged yet).
DutyPlan plan_duty(const std::vector<ToolCost>& shed_order, double budget_cores,
                   double min_duty = 0.05);

// How many of `ticks` ticks of a cycle a tool with duty `d` is attached: d × ticks
// rounded down (never more than planned), 0 only for d = 0, otherwise at least 1.
int attached_ticks(double d, int ticks);

}  // namespace boundwise::ebpf
