/* The contract every BPF tool of the ebpf collector shares with user space: which
 * processes are targets and which workload each belongs to. C, not C++: clang
 * -target bpf compiles it too. Names carry a bw_ prefix so that none collides with a
 * kernel type in vmlinux.h.
 *
 * The maps themselves are created once, by targets.bpf.c's skeleton (TargetMaps in
 * targets.hpp), and handed to every other tool's skeleton before it loads
 * (bpf_map__reuse_fd): one bitmap, one tgid → workload map, one fork follower. */
#ifndef BOUNDWISE_EBPF_TARGETS_H
#define BOUNDWISE_EBPF_TARGETS_H

/* Target processes are marked in a bitmap indexed by tgid (one bit per tgid up to
 * the kernel's PID_MAX_LIMIT, 4M): the untargeted fast path is one inlined array
 * load, no hash lookup. */
#define BW_PID_LIMIT (4 * 1024 * 1024)
#define BW_TARGET_WORDS (BW_PID_LIMIT / 64)

/* Workload ids are 1..BW_MAX_WORKLOADS-1; 0 means "not targeted". */
#define BW_MAX_WORKLOADS 256
#define BW_MAX_TARGET_PROCESSES 16384

#endif
