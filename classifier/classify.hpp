// The pure classifier: window → verdict → recommendation. No I/O, no clocks.
// docs/CLASSIFIER.md is the decision table these functions implement; the thresholds
// below are its numbers, each with the reason it has that value.
#pragma once

#include "classifier/options.hpp"
#include "classifier/verdict.hpp"
#include "classifier/window.hpp"

namespace boundwise {

namespace thresholds {
// Below this many thread-equivalents doing anything but waiting for work or sleeping
// (active thread-seconds per wall-clock second), a workload is idle: 5% of one
// thread is noise from housekeeping (timers, heartbeats), not a bottleneck.
inline constexpr double kIdleActiveThreads = 0.05;
// A reason "dominates" when it holds a majority of busy (non-idle) thread time: then
// removing it is the largest possible win, whatever the other reasons are.
inline constexpr double kDominant = 0.5;
// GIL contention: threads wait for the GIL for at least this share of busy time.
// Two CPU-bound Python threads already spend ~48% waiting (PYTHON_INTERNALS.md); a
// thread doing occasional Python between native calls waits a few percent. It must
// also be at least half the on-CPU share, else the threads mostly run (native code
// outside the GIL) and queue only briefly. Separately, GIL wait ≥ on-CPU with the two
// holding a majority (kDominant) of busy time is contention whatever the share: the
// CPU work is the bottleneck and each running moment costs a longer wait.
inline constexpr double kGilShare = 0.3;
// Run-queue starvation: runnable threads wait for a CPU at least this share of the
// time they want one (runqueue / (on_cpu + runqueue)). An unsaturated host keeps this
// in the low percent; 30% means every third runnable moment is spent queueing.
inline constexpr double kRunqueueRatio = 0.3;
// ...and the node's CPUs are this busy (the queueing is the node's, not a cgroup's).
inline constexpr double kNodeBusy = 0.9;
// A CPU limit binds when the kernel throttled the workload's cgroup in at least this
// share of its enforcement periods: the threshold of kube-prometheus' CPUThrottlingHigh
// alert, the common production reading of "throttled".
inline constexpr double kThrottledShare = 0.25;
// A node has no core to give when less than half a core is idle and other work (not
// this workload) keeps at least half a core busy: a second process would only share.
inline constexpr double kFreeCore = 0.5;
// Without node data, run-queue wait alone must exceed run time to call saturation.
inline constexpr double kRunqueueRatioNoNode = 0.5;
// CPU parallelism: more than one core in use, half-way between one core and two.
inline constexpr double kParallelCores = 1.5;
// ...or at least two threads seen on CPU at once and clearly more than one core: one
// thread cannot use more than 1.0, and helper threads (GC, logging) plus tick
// granularity add up to ~10%, so 1.2 is beyond what a single busy thread explains.
inline constexpr double kParallelCoresWithThreads = 1.2;
// Memory: share of busy time in major faults, or the node's memory "full" pressure.
inline constexpr double kPagingShare = 0.2;
inline constexpr double kMemoryFullPressure = 0.1;
// Connections beyond which a thread per connection is the wrong shape: asyncio.
inline constexpr int kAsyncioConnections = 64;
// Worker-count bounds for I/O-bound recommendations.
inline constexpr int kMinIoWorkers = 2;
inline constexpr int kMaxIoWorkers = 256;
// Sampling rounds for full confidence (4 s at the default 5 Hz, 1 s at 20 Hz).
inline constexpr double kFullEvidenceRounds = 20;
// Thread-seconds of the judged time (busy time; all time for idle) for full
// confidence: one thread busy for one second, five samples of it at 5 Hz.
inline constexpr double kFullEvidenceThreadSeconds = 1.0;
// Node CPU pressure ("some") below this contradicts a saturation verdict: a node whose
// run queue is long has a runnable task waiting most of the time.
inline constexpr double kCpuPressureSupport = 0.1;
}  // namespace thresholds

Verdict classify(const WorkloadWindow& window);
// The decision table's model for the verdict, with every option scored (options.hpp):
// money only with prices set; with an objective, the cheapest option meeting it.
Recommendation recommend(const Verdict& verdict, const WorkloadWindow& window,
                         const DecisionInputs& inputs = {});

}  // namespace boundwise
