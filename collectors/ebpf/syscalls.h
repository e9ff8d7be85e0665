/* The contract between syscalls.bpf.c and its loader (syscalls.cpp): syscall classes,
 * map value layouts and sizes. C, not C++: clang -target bpf compiles it too. Names
 * carry a bw_ prefix so that none collides with a kernel type in vmlinux.h. */
#ifndef BOUNDWISE_EBPF_SYSCALLS_H
#define BOUNDWISE_EBPF_SYSCALLS_H

#ifndef __VMLINUX_H__ /* user space; BPF code gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#include "collectors/ebpf/latency_slots.h"
#include "collectors/ebpf/targets.h"

/* What a syscall waits for. The order is the ABI between the BPF program and
 * syscall_classes.cpp (names, nr → class table). */
enum bw_syscall_class {
  BW_SC_READ = 0, /* read, pread64, readv, preadv, preadv2 */
  BW_SC_WRITE,    /* write, pwrite64, writev, pwritev, pwritev2 */
  BW_SC_RECV,     /* recvfrom, recvmsg, recvmmsg */
  BW_SC_SEND,     /* sendto, sendmsg, sendmmsg, sendfile */
  BW_SC_POLL,     /* poll, ppoll, select, pselect6, epoll_wait, epoll_pwait, epoll_pwait2 */
  BW_SC_FUTEX,    /* futex, futex_waitv, futex_wait, futex_wake, futex_requeue */
  BW_SC_FSYNC,    /* fsync, fdatasync, sync_file_range, syncfs, sync */
  BW_SC_CONNECT,  /* connect */
  BW_SC_ACCEPT,   /* accept, accept4 */
  BW_SC_SLEEP,    /* nanosleep, clock_nanosleep */
  BW_SC_OTHER,    /* everything else */
  BW_SYSCALL_CLASSES,
};

/* Syscall numbers below this index the nr → class table (x86_64 numbers end at
 * ~470); above it a syscall is BW_SC_OTHER. A power of two: the BPF side masks. */
#define BW_SYSCALL_NR_LIMIT 512

/* Histogram map: one entry per (workload, class), key bw_syscall_key(). */
#define BW_SYSCALL_HISTS (BW_MAX_WORKLOADS * BW_SYSCALL_CLASSES)

static inline __u32 bw_syscall_key(__u32 workload, __u32 cls) {
  return workload * BW_SYSCALL_CLASSES + cls;
}

/* Per-thread state between sys_enter and sys_exit (task local storage). */
struct bw_sys_start {
  __u64 start_ns; /* bpf_ktime_get_ns() at sys_enter; 0 = not in a measured syscall */
  __u32 cls;      /* enum bw_syscall_class */
  __u32 gen;      /* attach generation at sys_enter (see syscalls.bpf.c) */
};

/* Cumulative latency histogram of one (workload, class), per CPU. */
struct bw_syscall_hist {
  __u64 slots[BW_LATENCY_SLOTS];
  __u64 sum_ns;
};

#endif
