/* The contract between sched.bpf.c and its loader (sched.cpp):
 * map value layouts and the constants both sides must agree on. C, not C++: it is
 * compiled by clang -target bpf too. Names carry a bw_ prefix so that none collides
 * with a kernel type in vmlinux.h. */
#ifndef BOUNDWISE_EBPF_SCHED_H
#define BOUNDWISE_EBPF_SCHED_H

#ifndef __VMLINUX_H__ /* user space; BPF code gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#include "collectors/ebpf/latency_slots.h"
#include "collectors/ebpf/targets.h"

#define BW_MAX_THREADS 65536

/* Why a thread is off-CPU. The first three are the state it switched out in; the
 * end of a sleep spent runnable, waiting for a CPU after the wake-up, is BW_WOKEN. */
enum bw_offcpu_state {
  BW_INTERRUPTIBLE = 0, /* S: sleeping until an event or signal */
  BW_UNINTERRUPTIBLE,   /* D: usually block I/O */
  BW_PREEMPTED,         /* runnable: preempted or yielded, waiting for a CPU */
  BW_WOKEN,             /* runnable: woken from a sleep, waiting for a CPU */
  BW_OTHER_STATE,       /* stopped, traced, or a state this code does not know */
  BW_GIL_WAIT,          /* S in futex on an address inside its process's GIL (bw_gil_range) */
  BW_OFFCPU_STATES,
};

/* Python processes whose GIL the kernel side knows (map keyed by tgid). A thread of
 * such a process that goes to sleep in futex on an address in [begin, end) is waiting
 * for the GIL: the same signature the procfs sampler reads from /proc/TID/syscall,
 * taken at every switch instead of five times a second. */
#define BW_MAX_GIL_PROCESSES 4096
#define BW_SYS_FUTEX_X86_64 202

struct bw_gil_range {
  __u64 begin;
  __u64 end;
  __u32 workload; /* the workload id the process had when the range was written */
  __u32 pad;
};

/* Per-thread record of its last off-CPU segment (map keyed by tid). */
struct bw_thread {
  __u64 since_ns;     /* the segment's start; 0 = unknown (a thread first seen coming on) */
  __u64 until_ns;     /* its end (back on the CPU); 0 = still off the CPU */
  __u64 run_delay_ns; /* the task's sched_info.run_delay (schedstat's 2nd field) at since_ns */
  __u32 state;        /* enum bw_offcpu_state it switched out in */
  __u32 workload;
  __u32 generation; /* attach_generation when written; older = written before a detach */
  __u32 pad;
};

/* Per-workload cumulative counters (a per-CPU array indexed by workload id). */
struct bw_sched_stats {
  /* Off-CPU thread time by state. Each segment is counted from the later of its
   * start and window_start_ns (set by user space at every window close), so a window
   * gets only its own part of a long sleep; user space adds the segments still open
   * at the close itself. */
  __u64 offcpu_ns[BW_OFFCPU_STATES];
  /* Run-queue latency (woken or preempted → on CPU), whole waits. */
  __u64 runq_slots[BW_LATENCY_SLOTS];
  __u64 runq_sum_ns;
};

#endif
