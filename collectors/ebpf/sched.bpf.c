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
/* Bumped by user space at every attach. A record from an earlier generation was
 * written before the programs were last detached: the thread may have run and waited
 * any number of times since, so its segment and its run_delay baseline mean nothing
 * and the record counts as absent. */
__u32 attach_generation SEC(".bss");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH); /* LRU: a missed exit can never fill it */
  __uint(max_entries, BW_MAX_THREADS);
  __type(key, __u32); /* tid */
  __type(value, struct bw_thread);
} bw_threads SEC(".maps");

/* Set by user space for a workload once one of its processes has a GIL range (and
 * cleared when the id is given to another workload): the sched_switch path of every
 * other target skips the hash lookup below with one array load. */
__u8 gil_workloads[BW_MAX_WORKLOADS] SEC(".bss");

/* Written by user space when a Python process becomes a target; deleted when its
 * leader exits or it execs (below), or by user space when the process is no longer a
 * target of that workload or no longer Python (PID reuse). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, BW_MAX_GIL_PROCESSES);
  __type(key, __u32); /* tgid */
  __type(value, struct bw_gil_range);
} bw_gil_ranges SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); /* per CPU: no atomics on the hot path */
  __uint(max_entries, BW_MAX_WORKLOADS);
  __type(key, __u32); /* workload id */
  __type(value, struct bw_sched_stats);
} bw_sched_stats SEC(".maps");

/* Run-queue waits come from the scheduler's own bookkeeping (CONFIG_SCHED_INFO,
 * behind /proc/PID/schedstat): sched_info.run_delay sums every wait of a task for a
 * CPU, and the kernel adds a wait to it right after sched_switch has fired for the
 * task coming on. So a segment off the CPU is closed one step late, when the thread
 * next leaves the CPU (or exits): the run_delay gained since it last left is exactly
 * the wait that ended the segment. That spares a program on sched_wakeup, which fires
 * for every wake-up on the host.
 *
 * Only the part of [since, until] after window_start_ns is added to the window's
 * seconds: `wait` of its end in BW_WOKEN (or all of it in BW_PREEMPTED, a thread that
 * never slept), the rest in the state it left in; the wait goes to the histogram
 * whole. since == 0: the start is unknown (a thread first seen coming on), the
 * segment is the wait alone. */
static __always_inline void close_segment(const struct bw_thread *t, __u64 wait) {
  __u32 wid = t->workload;
  struct bw_sched_stats *s = bpf_map_lookup_elem(&bw_sched_stats, &wid);
  __u64 until = t->until_ns, since = t->since_ns, from;
  __u32 state = t->state, slot;
  if (!s || until == 0) return;
  if (since == 0 || since > until) since = until > wait ? until - wait : 0;
  if (wait > until - since) wait = until - since;
  from = since < window_start_ns ? window_start_ns : since;
  if (until > from && state < BW_OFFCPU_STATES) {
    __u64 span = until - from;
    if (state == BW_PREEMPTED || state == BW_OTHER_STATE || wait >= span) {
      s->offcpu_ns[state] += span;
    } else {
      s->offcpu_ns[state] += span - wait;
      s->offcpu_ns[BW_WOKEN] += wait;
    }
  }
  if (wait == 0) return;
  slot = bw_latency_slot(wait);
  /* The clamp inside bw_latency_slot() is folded away by clang; the verifier needs to
   * see one right before the access. */
  asm volatile("" : "+r"(slot));
  if (slot < BW_LATENCY_SLOTS) s->runq_slots[slot] += 1;
  s->runq_sum_ns += wait;
}

/* A thread of a Python process whose GIL range is known, switching out asleep: is it
 * in futex on the GIL? A task asleep in a syscall has its user registers saved at the
 * top of its kernel stack (bpf_task_pt_regs): the syscall number in orig_ax, the
 * first argument (futex's uaddr) in di. Only on x86_64, whose syscall numbers and
 * registers these are; elsewhere the procfs sampler's signature stands. */
static __always_inline bool waits_for_gil(struct task_struct *task, __u32 tgid, __u32 wid) {
#if defined(__TARGET_ARCH_x86)
  struct bw_gil_range *gil;
  struct pt_regs *regs;
  if (!gil_workloads[wid & (BW_MAX_WORKLOADS - 1)]) return false;
  gil = bpf_map_lookup_elem(&bw_gil_ranges, &tgid);
  if (!gil) return false;
  regs = (struct pt_regs *)bpf_task_pt_regs(task);
  if (!regs) return false;
  if (regs->orig_ax != BW_SYS_FUTEX_X86_64) return false;
  return regs->di - gil->begin < gil->end - gil->begin;
#else
  return false;
#endif
}

static __always_inline __u32 state_of(bool preempt, unsigned int prev_state,
                                      struct task_struct *task, __u32 tgid, __u32 wid) {
  if (preempt || prev_state == 0) return BW_PREEMPTED;
  if (prev_state & TASK_NOLOAD) return BW_OTHER_STATE; /* TASK_IDLE: kernel-style idle wait */
  if (prev_state & TASK_UNINTERRUPTIBLE) return BW_UNINTERRUPTIBLE;
  if (prev_state & TASK_INTERRUPTIBLE)
    return waits_for_gil(task, tgid, wid) ? BW_GIL_WAIT : BW_INTERRUPTIBLE;
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
      __u64 run_delay = prev->sched_info.run_delay;
      __u32 generation = attach_generation;
      __u32 state = state_of(preempt, prev_state, prev, tgid, wid);
      struct bw_thread *t = bpf_map_lookup_elem(&bw_threads, &tid);
      now = bpf_ktime_get_ns();
      if (t) {
        if (t->until_ns != 0 && t->generation == generation)
          close_segment(t, run_delay - t->run_delay_ns);
        t->since_ns = now;
        t->until_ns = 0;
        t->run_delay_ns = run_delay;
        t->state = state;
        t->workload = wid;
        t->generation = generation;
      } else {
        struct bw_thread fresh = {};
        fresh.since_ns = now;
        fresh.run_delay_ns = run_delay;
        fresh.state = state;
        fresh.workload = wid;
        fresh.generation = generation;
        bpf_map_update_elem(&bw_threads, &tid, &fresh, BPF_ANY);
      }
    }
  }
  tgid = next->tgid;
  if (bw_is_target(tgid)) {
    __u32 tid = next->pid;
    struct bw_thread *t = bpf_map_lookup_elem(&bw_threads, &tid);
    __u32 generation = attach_generation;
    if (now == 0) now = bpf_ktime_get_ns();
    if (t && t->generation == generation) {
      if (t->since_ns != 0 && t->until_ns == 0) t->until_ns = now;
    } else {
      /* First run of a new thread or process (or of a thread whose record was
       * evicted, or written before a detach): only the wait that ends now will be
       * known. */
      __u32 wid = bw_workload_of(tgid);
      if (wid != 0 && wid < BW_MAX_WORKLOADS) {
        struct bw_thread fresh = {};
        fresh.until_ns = now;
        fresh.run_delay_ns = next->sched_info.run_delay;
        fresh.state = BW_WOKEN;
        fresh.workload = wid;
        fresh.generation = generation;
        bpf_map_update_elem(&bw_threads, &tid, &fresh, BPF_ANY);
      }
    }
  }
  return 0;
}

/* An exiting thread (on the CPU) closes its last segment; its record goes
 * (targets.bpf.c unmarks the process). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(bw_sched_process_exit, struct task_struct *p) {
  __u32 tgid = p->tgid;
  __u32 tid;
  struct bw_thread *t;
  if (!bw_is_target(tgid)) return 0;
  tid = p->pid;
  t = bpf_map_lookup_elem(&bw_threads, &tid);
  if (t && t->until_ns != 0 && t->generation == attach_generation)
    close_segment(t, p->sched_info.run_delay - t->run_delay_ns);
  bpf_map_delete_elem(&bw_threads, &tid);
  if (tid == tgid) bpf_map_delete_elem(&bw_gil_ranges, &tgid); /* the process is going */
  return 0;
}

/* A new program image: the GIL range user space wrote was the old image's, and the
 * new one's is not known (an exec'd Python falls back to the procfs signature). Fires
 * for every exec on the host, rare next to switches; the untargeted path is the
 * bitmap check. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(bw_sched_process_exec, struct task_struct *p, pid_t old_pid,
             struct linux_binprm *bprm) {
  __u32 tgid = p->tgid;
  if (!bw_is_target(tgid)) return 0;
  bpf_map_delete_elem(&bw_gil_ranges, &tgid);
  return 0;
}
