// SPDX-License-Identifier: GPL-2.0
/* disk: per-workload block request latency, issued to the driver → completed, from
 * the block layer's BTF tracepoints.
 *
 * The completion runs in interrupt or a kernel thread's context, the issue often in
 * kblockd's: neither knows who asked. The submitter is current when the request is
 * made from its bio — block_io_start (kernel 6.5+), or block_rq_insert on older
 * kernels (which misses requests issued directly, without an I/O scheduler) — so the
 * workload is looked up there and kept with the request, keyed by its address, until
 * it completes. What the submitter did not submit itself is not attributed: page
 * cache writeback (kworker flush threads), journal commits (jbd2), read-ahead
 * completed by others. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "collectors/ebpf/disk.h"
#include "collectors/ebpf/targets.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Bumped by user space at every attach: a request started before a detach whose
 * completion went unseen carries an older generation and is never counted, even if
 * its address is reused by a request nobody targeted. */
__u32 attach_gen SEC(".bss");

/* Targets' requests started in this attach generation and not yet completed (reset
 * with the generation by user space). Every request on the host is issued and
 * completed; while this is 0, which is most of the time on a host whose targets do
 * little I/O, those programs return after one load instead of a hash lookup. */
__s64 inflight SEC(".bss");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, BW_DISK_INFLIGHT);
  __type(key, __u64); /* struct request * */
  __type(value, struct bw_disk_rq);
} bw_disk_rqs SEC(".maps");

/* Indexed by workload id. Shared, not per CPU, updated with atomic adds: disk
 * completions are at most a few hundred thousand a second host-wide, so contention is
 * rare, and 256 × 1.7 KB stays 435 KB however many CPUs there are. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, BW_MAX_WORKLOADS);
  __type(key, __u32);
  __type(value, struct bw_disk_hist);
} bw_disk_hists SEC(".maps");

static __always_inline int on_start(struct request *rq) {
  __u64 key = (__u64)rq;
  struct bw_disk_rq r = {}, *old;
  __u32 wid = bw_current_workload();
  if (wid == 0) return 0;
  r.workload = wid;
  r.gen = attach_gen;
  /* A request started again in this generation (requeued through insert) is
   * counted once; an entry left from an older one counts anew. */
  old = bpf_map_lookup_elem(&bw_disk_rqs, &key);
  if (old && old->gen == r.gen) {
    old->workload = wid;
    old->issue_ns = 0;
    return 0;
  }
  if (bpf_map_update_elem(&bw_disk_rqs, &key, &r, BPF_ANY) == 0)
    __sync_fetch_and_add(&inflight, 1);
  return 0;
}

SEC("tp_btf/block_io_start")
int BPF_PROG(bw_disk_io_start, struct request *rq) { return on_start(rq); }

/* Kernels before 6.5 have no block_io_start; the loader enables this one instead. */
SEC("tp_btf/block_rq_insert")
int BPF_PROG(bw_disk_rq_insert, struct request *rq) { return on_start(rq); }

SEC("tp_btf/block_rq_issue")
int BPF_PROG(bw_disk_rq_issue, struct request *rq) {
  __u64 key = (__u64)rq;
  struct bw_disk_rq *r;
  if (inflight <= 0) return 0;
  r = bpf_map_lookup_elem(&bw_disk_rqs, &key);
  if (r) r->issue_ns = bpf_ktime_get_ns(); /* a requeued request restarts here */
  return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(bw_disk_rq_complete, struct request *rq, blk_status_t error, unsigned int nr_bytes) {
  __u64 key = (__u64)rq;
  struct bw_disk_rq *r;
  struct bw_disk_hist *h;
  __u64 issued, took;
  __u32 wid, slot, gen;
  if (inflight <= 0) return 0;
  r = bpf_map_lookup_elem(&bw_disk_rqs, &key);
  if (!r) return 0;
  issued = r->issue_ns;
  wid = r->workload;
  gen = r->gen;
  if (bpf_map_delete_elem(&bw_disk_rqs, &key) != 0 || gen != attach_gen) return 0;
  __sync_fetch_and_add(&inflight, -1);
  if (issued == 0) return 0;
  took = bpf_ktime_get_ns() - issued;
  h = bpf_map_lookup_elem(&bw_disk_hists, &wid);
  if (!h) return 0;
  slot = bw_latency_slot(took);
  asm volatile("" : "+r"(slot)); /* keep the bound check next to the access */
  if (slot < BW_LATENCY_SLOTS) __sync_fetch_and_add(&h->slots[slot], 1);
  __sync_fetch_and_add(&h->sum_ns, took);
  return 0;
}

/* A request merged into another never completes itself: forget it now rather than
 * leave it to be evicted. */
SEC("tp_btf/block_rq_merge")
int BPF_PROG(bw_disk_rq_merge, struct request *rq) {
  __u64 key = (__u64)rq;
  struct bw_disk_rq *r;
  __u32 gen;
  if (inflight <= 0) return 0;
  r = bpf_map_lookup_elem(&bw_disk_rqs, &key);
  if (!r) return 0;
  gen = r->gen;
  if (bpf_map_delete_elem(&bw_disk_rqs, &key) == 0 && gen == attach_gen)
    __sync_fetch_and_add(&inflight, -1);
  return 0;
}
