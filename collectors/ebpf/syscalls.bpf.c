// SPDX-License-Identifier: GPL-2.0
/* syscalls: per-workload latency histograms of syscalls by class (syscalls.h), from
 * the sys_enter / sys_exit BTF tracepoints. They fire for every syscall on the host,
 * so the untargeted path is the target bitmap check and nothing else: one helper
 * call for the tgid and one inlined array load.
 *
 * The entry timestamp lives in task local storage, not in a hash keyed by tid: the
 * kernel frees it with the task (no map to clean, no LRU eviction) and a lookup is a
 * pointer chase through the task's storage cache instead of hashing (measured in
 * docs/BENCHMARKS.md). Histograms live in a per-CPU hash created entry by entry (see
 * bw_syscall_hists) rather than a per-CPU array: 256 workloads × 11 classes × 1.7 KB
 * per CPU would be 4.7 MB per CPU preallocated, almost all of it never used. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "collectors/ebpf/syscalls.h"
#include "collectors/ebpf/targets.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* x86_64 syscall number → enum bw_syscall_class, filled by the loader from
 * syscall_classes.cpp before load (read-only to the program: the verifier folds
 * nothing, but a .rodata load is one instruction). */
const volatile __u8 bw_syscall_class_of[BW_SYSCALL_NR_LIMIT] = {};

/* Bumped by user space at every attach. A syscall that entered before a detach and
 * exited after the next attach carries an older generation and is not counted: its
 * exit during the detached time went unseen, so its start is stale. */
__u32 attach_gen SEC(".bss");

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC); /* required for local storage */
  __type(key, int);
  __type(value, struct bw_sys_start);
} bw_sys_starts SEC(".maps");

/* Per (workload, class). Entries are created by user space (zeroed) when a workload
 * id is assigned, so the program only ever looks up; BPF_F_NO_PREALLOC keeps the
 * memory to the entries that exist: ~11 × 1.7 KB per CPU and workload. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, BW_SYSCALL_HISTS);
  __type(key, __u32);
  __type(value, struct bw_syscall_hist);
} bw_syscall_hists SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(bw_sys_enter, struct pt_regs *regs, long id) {
  struct bw_sys_start *s;
  if (!bw_is_target((__u32)(bpf_get_current_pid_tgid() >> 32))) return 0;
  s = bpf_task_storage_get(&bw_sys_starts, bpf_get_current_task_btf(), 0,
                           BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!s) return 0;
  s->cls = (unsigned long)id < BW_SYSCALL_NR_LIMIT
               ? bw_syscall_class_of[(unsigned long)id & (BW_SYSCALL_NR_LIMIT - 1)]
               : BW_SC_OTHER;
  s->gen = attach_gen;
  s->start_ns = bpf_ktime_get_ns();
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(bw_sys_exit, struct pt_regs *regs, long ret) {
  __u32 tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
  struct bw_syscall_hist *h;
  struct bw_sys_start *s;
  __u64 start, took;
  __u32 wid, key, slot, *widp;
  if (!bw_is_target(tgid)) return 0;
  s = bpf_task_storage_get(&bw_sys_starts, bpf_get_current_task_btf(), 0, 0);
  if (!s || s->start_ns == 0) return 0;
  start = s->start_ns;
  s->start_ns = 0;
  if (s->gen != attach_gen || s->cls >= BW_SYSCALL_CLASSES) return 0;
  took = bpf_ktime_get_ns() - start;
  /* The bitmap said yes above: straight to the workload (bw_workload_of() would
   * check the bitmap again). */
  widp = bpf_map_lookup_elem(&bw_target_workload, &tgid);
  if (!widp || *widp == 0 || *widp >= BW_MAX_WORKLOADS) return 0;
  wid = *widp;
  key = bw_syscall_key(wid, s->cls);
  h = bpf_map_lookup_elem(&bw_syscall_hists, &key);
  if (!h) return 0;
  slot = bw_latency_slot(took);
  asm volatile("" : "+r"(slot)); /* keep the bound check next to the access */
  if (slot < BW_LATENCY_SLOTS) h->slots[slot] += 1;
  h->sum_ns += took;
  return 0;
}
