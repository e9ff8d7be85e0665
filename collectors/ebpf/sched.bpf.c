// SPDX-License-Identifier: GPL-2.0
/* sched: per-workload off-CPU thread time by state and run-queue latency, from the
 * scheduler's BTF tracepoints (tp_btf: no tracefs, no kprobes). Targets come from
 * targets.bpf.h. Everything is aggregated in the kernel; nothing is streamed per
 * event.
 *
 * Task fields are read by direct dereference: tp_btf arguments are trusted BTF
 * pointers, and vmlinux.h marks every struct preserve_access_index, so the loads are
 * CO-RE-relocated plain loads, several times cheaper than BPF_CORE_READ's
 * bpf_probe_read_kernel() calls on the sched_switch hot path. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "collectors/ebpf/sched.h"
#include "collectors/ebpf/targets.bpf.h"

#define TASK_INTERRUPTIBLE 0x1
#define TASK_UNINTERRUPTIBLE 0x2
#define TASK_DEAD 0x80
#define TASK_NOLOAD 0x400

char LICENSE[] SEC("license") = "GPL";

/* CLOCK_MONOTONIC ns of the last window close, written by user space. */
__u64 window_start_ns SEC(".bss");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH); /* LRU: a missed exit can never fill it */
  __uint(max_entries, BW_MAX_THREADS);
  __type(key, __u32); /* tid */
  __type(value, struct bw_thread);
} bw_threads SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); /* per CPU: no atomics on the hot path */
  __uint(max_entries, BW_MAX_WORKLOADS);
  __type(key, __u32); /* workload id */
  __type(value, struct bw_sched_stats);
} bw_sched_stats SEC(".maps");

static __always_inline void close_segment(struct bw_thread *t, __u64 now, int runq) {
  struct bw_sched_stats *s;
  __u32 wid = t->workload;
  __u64 from = t->since_ns;
  if (t->since_ns == 0) return;
  s = bpf_map_lookup_elem(&bw_sched_stats, &wid);
  if (s) {
    if (from < window_start_ns) from = window_start_ns;
    if (now > from && t->state < BW_OFFCPU_STATES) s->offcpu_ns[t->state] += now - from;
    if (runq && now > t->since_ns) {
      __u64 wait = now - t->since_ns;
      __u32 slot = bw_latency_slot(wait);
      /* The clamp inside bw_latency_slot() is folded away by clang; the verifier
       * needs to see one right before the access. */
      asm volatile("" : "+r"(slot));
      if (slot < BW_LATENCY_SLOTS) s->runq_slots[slot] += 1;
      s->runq_sum_ns += wait;
    }
  }
  t->since_ns = 0;
}

static __always_inline __u32 state_of(bool preempt, unsigned int prev_state) {
  if (preempt || prev_state == 0) return BW_PREEMPTED;
  if (prev_state & TASK_NOLOAD) return BW_OTHER_STATE; /* TASK_IDLE: kernel-style idle wait */
  if (prev_state & TASK_UNINTERRUPTIBLE) return BW_UNINTERRUPTIBLE;
  if (prev_state & TASK_INTERRUPTIBLE) return BW_INTERRUPTIBLE;
  return BW_OTHER_STATE;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(bw_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
             unsigned int prev_state) {
  __u64 now = 0;
  __u32 tgid = prev->tgid;
  if (bw_is_target(tgid) && !(prev_state & TASK_DEAD)) {
    __u32 wid = bw_workload_of(tgid);
    __u32 tid = prev->pid;
    if (wid != 0 && wid < BW_MAX_WORKLOADS) {
      struct bw_thread t = {};
      now = bpf_ktime_get_ns();
      t.since_ns = now;
      t.state = state_of(preempt, prev_state);
      t.workload = wid;
      bpf_map_update_elem(&bw_threads, &tid, &t, BPF_ANY);
    }
  }
  tgid = next->tgid;
  if (bw_is_target(tgid)) {
    __u32 tid = next->pid;
    struct bw_thread *t = bpf_map_lookup_elem(&bw_threads, &tid);
    if (t && t->since_ns != 0) {
      if (now == 0) now = bpf_ktime_get_ns();
      close_segment(t, now, t->state == BW_PREEMPTED || t->state == BW_WOKEN);
    }
  }
  return 0;
}

static __always_inline int on_wakeup(struct task_struct *p) {
  __u32 tgid = p->tgid;
  __u32 tid;
  struct bw_thread *t;
  __u64 now;
  if (!bw_is_target(tgid)) return 0;
  tid = p->pid;
  t = bpf_map_lookup_elem(&bw_threads, &tid);
  if (!t || t->since_ns == 0 || t->state == BW_PREEMPTED || t->state == BW_WOKEN) return 0;
  now = bpf_ktime_get_ns();
  close_segment(t, now, 0);
  t->since_ns = now; /* now waiting for a CPU */
  t->state = BW_WOKEN;
  return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(bw_sched_wakeup, struct task_struct *p) { return on_wakeup(p); }

/* A new thread or process becomes runnable: its first run-queue wait starts here. */
SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(bw_sched_wakeup_new, struct task_struct *p) {
  __u32 tgid = p->tgid;
  __u32 wid = bw_workload_of(tgid);
  __u32 tid;
  struct bw_thread t = {};
  if (wid == 0 || wid >= BW_MAX_WORKLOADS) return 0;
  tid = p->pid;
  t.since_ns = bpf_ktime_get_ns();
  t.state = BW_WOKEN;
  t.workload = wid;
  bpf_map_update_elem(&bw_threads, &tid, &t, BPF_ANY);
  return 0;
}

/* Exited threads leave bw_threads (targets.bpf.c unmarks the process). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(bw_sched_process_exit, struct task_struct *p) {
  __u32 tgid = p->tgid;
  __u32 tid;
  if (!bw_is_target(tgid)) return 0;
  tid = p->pid;
  bpf_map_delete_elem(&bw_threads, &tid);
  return 0;
}
