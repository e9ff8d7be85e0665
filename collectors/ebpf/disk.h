/* The contract between disk.bpf.c and its loader (disk.cpp): map value layouts and
 * sizes. C, not C++: clang -target bpf compiles it too. Names carry a bw_ prefix so
 * that none collides with a kernel type in vmlinux.h. */
#ifndef BOUNDWISE_EBPF_DISK_H
#define BOUNDWISE_EBPF_DISK_H

#ifndef __VMLINUX_H__ /* user space; BPF code gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#include "collectors/ebpf/latency_slots.h"
#include "collectors/ebpf/targets.h"

/* Requests of targets between their start and their completion, host-wide. A device
 * queue holds at most a few thousand; LRU, so requests whose completion went unseen
 * (detached meanwhile, merged away) can never fill it. */
#define BW_DISK_INFLIGHT 16384

/* A request a target's thread started (map keyed by the struct request address). */
struct bw_disk_rq {
  __u64 issue_ns; /* bpf_ktime_get_ns() when issued to the driver; 0 = not yet */
  __u32 workload;
  __u32 gen; /* attach generation at start (see disk.bpf.c) */
};

/* Cumulative block request latency of one workload (shared by all CPUs). */
struct bw_disk_hist {
  __u64 slots[BW_LATENCY_SLOTS];
  __u64 sum_ns;
};

#endif
