// assemble(): the one pure stage that turns a window's evidence from every source into
// the WorkloadWindow the classifier reads. No collector reads or rescales another's
// output; this is where sources meet, each field with one precedence (measured beats
// sampled), documented in docs/ARCHITECTURE.md ("Assembling a window"):
//
//   thread time by reason   procfs's exact on-CPU/run-queue time and its sampled split
//                           of the off-CPU rest; with the sched tool, the off-CPU rest
//                           re-divided so that D-state (disk, paging) and, where the
//                           kernel knew the GIL, gil take their measured shares
//                           (merge_offcpu below)
//   dependencies            the union of sampled and measured endpoints, named by the
//                           configured rules and capped once (name_dependencies):
//                           wait seconds from procfs (rescaled with their reason),
//                           latency and counts from the net tool
//   latency histograms      measured only (sched, net, syscalls, disk tools)
//   runtime and GIL         the python collector; gil.wait_measured_in_kernel when the
//                           sched tool measured GIL waits
//   node                    the node collector
//
// Every number is sanitised here, once: non-finite or negative counts as 0.
// Pure: standard library only, no clocks, no I/O.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "classifier/assemble/evidence.hpp"
#include "classifier/endpoint.hpp"
#include "classifier/numbers.hpp"
#include "classifier/window.hpp"

namespace boundwise {

struct AssembleRules {
  std::vector<DependencyRule> dependencies;  // configured names
  int max_dependencies_per_workload = 10;    // the rest are summed into "other"

  bool operator==(const AssembleRules&) const = default;
};

// One window per workload of `evidence`, finalized (finalize_window) and with the node
// facts copied in.
std::map<std::string, WorkloadWindow> assemble(const EvidenceSet& evidence,
                                               const AssembleRules& rules);

// The steps of assemble(), exposed for their unit tests.

// Re-divides w's off-CPU thread time (already the sampled split) by the measured
// states: D reasons (disk, paging) scaled to the measured D share of off-CPU, gil set
// to its measured share when m.gil_exact, the other off-CPU reasons scaled to the
// rest; the total off-CPU time stays procfs's (exact). D time procfs missed counts as
// disk; dependency wait seconds scale with their reason. Sets
// w.offcpu_seconds_by_state. Nothing measured (no sleep): w's split is kept.
void merge_offcpu(const MeasuredOffCpu& m, WorkloadWindow& w);

// One dependency entry per name: endpoints merged under their configured (or
// well-known) name, ordered by wait seconds then requests, the first
// max(1, rules.max_dependencies_per_workload) kept and the rest summed into "other"
// (its `folded` counting the names it took). Measured histograms are set only when
// they hold something.
std::vector<DependencyWindow> name_dependencies(
    const std::map<Endpoint, SampledEvidence::Dependency>& sampled,
    const std::map<Endpoint, MeasuredDependency>& measured, const AssembleRules& rules);

}  // namespace boundwise
