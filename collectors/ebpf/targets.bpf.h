/* Target selection shared by every BPF tool of the ebpf collector: the tgid bitmap
 * (the cheap untargeted fast path), tgid → workload id, and fork/exit following.
 * Included by exactly one .bpf.c per skeleton; user space writes the bitmap through
 * the skeleton's mmapped .bss. */
#ifndef BOUNDWISE_EBPF_TARGETS_BPF_H
#define BOUNDWISE_EBPF_TARGETS_BPF_H

#include "collectors/ebpf/sched.h"

/* One bit per tgid. Written by user space with atomic or/and on the mmapped .bss and
 * by the fork program below. */
__u64 bw_target_bits[BW_TARGET_WORDS] SEC(".bss");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, BW_MAX_TARGET_PROCESSES);
  __type(key, __u32);   /* tgid */
  __type(value, __u32); /* workload id */
} bw_target_workload SEC(".maps");

static __always_inline int bw_is_target(__u32 tgid) {
  __u64 word = bw_target_bits[(tgid >> 6) & (BW_TARGET_WORDS - 1)];
  return (word >> (tgid & 63)) & 1;
}

/* Workload id of a targeted tgid, 0 when not targeted. */
static __always_inline __u32 bw_workload_of(__u32 tgid) {
  __u32 *wid;
  if (!bw_is_target(tgid)) return 0;
  wid = bpf_map_lookup_elem(&bw_target_workload, &tgid);
  return wid ? *wid : 0;
}

static __always_inline void bw_mark_target(__u32 tgid, __u32 wid) {
  bpf_map_update_elem(&bw_target_workload, &tgid, &wid, BPF_ANY);
  __sync_fetch_and_or(&bw_target_bits[(tgid >> 6) & (BW_TARGET_WORDS - 1)], 1ULL << (tgid & 63));
}

static __always_inline void bw_unmark_target(__u32 tgid) {
  __sync_fetch_and_and(&bw_target_bits[(tgid >> 6) & (BW_TARGET_WORDS - 1)],
                       ~(1ULL << (tgid & 63)));
  bpf_map_delete_elem(&bw_target_workload, &tgid);
}

#endif
