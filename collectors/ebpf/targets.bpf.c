// SPDX-License-Identifier: GPL-2.0
/* targets: follows forks and exits of target processes in the kernel, so that a
 * PostgreSQL backend or a fresh pool worker is covered by every tool at once, before
 * the next discovery scan lists it, and a reused pid is never counted for the old
 * workload. Owns the maps of targets.bpf.h (see targets.hpp). */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "collectors/ebpf/targets.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* A target's child process joins its workload (threads share the tgid and need
 * nothing). Runs before the child first runs. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(bw_targets_fork, struct task_struct *parent, struct task_struct *child) {
  __u32 ptgid = parent->tgid;
  __u32 ctgid = child->tgid;
  __u32 idx = (ctgid >> 6) & (BW_TARGET_WORDS - 1);
  __u64 *word;
  __u32 wid;
  if (ptgid == ctgid) return 0;
  wid = bw_workload_of(ptgid);
  if (wid == 0) return 0;
  bpf_map_update_elem(&bw_target_workload, &ctgid, &wid, BPF_ANY);
  word = bpf_map_lookup_elem(&bw_target_bits, &idx);
  if (word) __sync_fetch_and_or(word, 1ULL << (ctgid & 63));
  return 0;
}

/* The last thread of a target process leaves: the process leaves the target maps. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(bw_targets_exit, struct task_struct *p) {
  __u32 tgid = p->tgid;
  __u32 idx = (tgid >> 6) & (BW_TARGET_WORDS - 1);
  __u64 *word;
  if (!bw_is_target(tgid) || p->signal->live.counter != 0) return 0;
  word = bpf_map_lookup_elem(&bw_target_bits, &idx);
  if (word) __sync_fetch_and_and(word, ~(1ULL << (tgid & 63)));
  bpf_map_delete_elem(&bw_target_workload, &tgid);
  return 0;
}
