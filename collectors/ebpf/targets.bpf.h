/* Target selection for BPF programs (see targets.h for the contract): include it in
 * every tool's .bpf.c. The maps are declared in each object but the loader replaces
 * them with the ones TargetMaps owns, so every tool sees the same targets. */
#ifndef BOUNDWISE_EBPF_TARGETS_BPF_H
#define BOUNDWISE_EBPF_TARGETS_BPF_H

#include "collectors/ebpf/targets.h"

/* One bit per tgid. Mmapped by user space, which sets and clears bits with atomic
 * read-modify-writes; the fork program below sets bits the same way. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, BW_TARGET_WORDS);
  __type(key, __u32);
  __type(value, __u64);
} bw_target_bits SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, BW_MAX_TARGET_PROCESSES);
  __type(key, __u32);   /* tgid */
  __type(value, __u32); /* workload id */
} bw_target_workload SEC(".maps");

/* The verifier inlines an array lookup into a bounds check and an add. */
static __always_inline int bw_is_target(__u32 tgid) {
  __u32 idx = (tgid >> 6) & (BW_TARGET_WORDS - 1);
  __u64 *word = bpf_map_lookup_elem(&bw_target_bits, &idx);
  return word && ((*word >> (tgid & 63)) & 1);
}

/* Workload id of a targeted tgid, 0 when not targeted. */
static __always_inline __u32 bw_workload_of(__u32 tgid) {
  __u32 *wid;
  if (!bw_is_target(tgid)) return 0;
  wid = bpf_map_lookup_elem(&bw_target_workload, &tgid);
  return wid && *wid < BW_MAX_WORKLOADS ? *wid : 0;
}

/* Workload id of the current task's process, 0 when not targeted. */
static __always_inline __u32 bw_current_workload(void) {
  return bw_workload_of((__u32)(bpf_get_current_pid_tgid() >> 32));
}

#endif
