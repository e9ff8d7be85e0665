// How the ebpf collector's measured off-CPU time is merged into a window the procfs
// collector already filled. Pure, so that every rule is unit-tested.
//
// procfs knows each thread's exact run and run-queue time (schedstat) and hence its
// exact off-CPU total, but splits that total over reasons by sampling. eBPF measures
// how the off-CPU time divides between uninterruptible sleep (D) and everything else,
// exactly, but not why a thread sleeps. The merge keeps procfs's totals and its
// reasons and rescales the reasons so that the D share is the measured one:
//   D reasons (disk, paging)                   → scaled to measured D share × off-CPU
//   other off-CPU reasons (net, sleep, lock, …) → scaled to the rest
// Dependency wait seconds (part of net) are scaled with their reason. When procfs saw
// no D reason but the kernel measured D time, it is counted as disk (what procfs does
// for a D thread in an unknown syscall).
//
// For a workload whose Python processes' GIL ranges the kernel holds (gil_exact), GIL
// waits are measured too (sleeps in futex on the GIL's address, at every switch): the
// gil reason is set to the measured share, and only the remaining sleep is split over
// procfs's other reasons. Without it, procfs's sampled gil stays one of them.
#pragma once

#include "classifier/window.hpp"

namespace boundwise::ebpf {

// Measured off-CPU thread-seconds of one workload in one window, by state.
struct MeasuredOffCpu {
  double interruptible = 0;
  double uninterruptible = 0;
  double preempted = 0;
  double woken = 0;
  double other = 0;
  double gil = 0;          // asleep in futex on the GIL (part of what procfs calls sleep)
  bool gil_exact = false;  // the kernel knew the GIL of at least one of the processes
};

void merge_offcpu(const MeasuredOffCpu& m, WorkloadWindow& w);

}  // namespace boundwise::ebpf
