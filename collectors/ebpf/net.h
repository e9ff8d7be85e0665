/* The contract between net.bpf.c and its loader (net.cpp): map key and value layouts
 * and the constants both sides agree on. C, not C++: clang -target bpf compiles it
 * too. Names carry a bw_ prefix so that none collides with a kernel type in
 * vmlinux.h. */
#ifndef BOUNDWISE_EBPF_NET_H
#define BOUNDWISE_EBPF_NET_H

#ifndef __VMLINUX_H__ /* user space; BPF code gets the types from vmlinux.h */
#include <linux/types.h>
#endif

#include "collectors/ebpf/latency_slots.h"
#include "collectors/ebpf/targets.h"

#define BW_NET_MAX_SOCKETS 65536  /* per-socket state (LRU) */
#define BW_NET_MAX_ENDPOINTS 2048 /* (workload, endpoint) histograms (LRU) */
#define BW_NET_MAX_LISTEN_PORTS 4096
#define BW_NET_MAX_PENDING 16384 /* per-thread syscall stash (syscalls source) */

#define BW_NET_FAMILY_V4 4
#define BW_NET_FAMILY_V6 6

/* What a socket waits for (bw_net_sock.phase). */
enum bw_net_phase {
  BW_NET_IDLE = 0,     /* no request outstanding */
  BW_NET_AWAITING = 1, /* client: request sent, no byte of the response yet */
  BW_NET_SERVING = 2,  /* server: request received, no byte of the response sent yet */
};

/* A remote endpoint of one workload: the key of the per-dependency histograms. */
struct bw_net_key {
  __u32 workload;
  __u16 port;  /* remote port, host byte order */
  __u8 family; /* BW_NET_FAMILY_V4 | BW_NET_FAMILY_V6 */
  __u8 pad;
  __u8 addr[16]; /* network byte order; v4 in the first 4 bytes */
};

/* Per TCP socket of a target (LRU hash keyed by the struct sock pointer). */
struct bw_net_sock {
  struct bw_net_key key;
  __u64 since_ns; /* start of the outstanding request (phase != IDLE) */
  __u64 syn_ns;   /* connect(): SYN sent; 0 after the handshake */
  /* Accepted (passive) socket: when its handshake completed, i.e. when it was queued
   * for accept(); 0 once its first request started. */
  __u64 queued_ns;
  __u64 arrived_ns; /* passive: when the outstanding request arrived (total latency) */
  __u32 phase;      /* enum bw_net_phase */
  __u32 passive;    /* 1: accepted (server side) */
  __u32 gen;        /* bw_net_gen when since_ns was taken */
  __u32 pad;
};

/* Cumulative counters of one (workload, endpoint); updated with atomic adds. */
struct bw_net_stats {
  __u64 req_slots[BW_LATENCY_SLOTS];
  __u64 req_sum_ns;
  __u64 requests;
  __u64 bytes_sent;
  __u64 bytes_received;
  __u64 conn_slots[BW_LATENCY_SLOTS];
  __u64 conn_sum_ns;
};

/* Cumulative inbound (server side) counters of one workload (array by workload id).
 * slots/sum_ns: service latency, first byte of a request received → first byte of the
 * response sent. total_*: the same requests from their arrival: a connection's first
 * request from the end of its handshake (the time it waited in the accept queue
 * included), later ones from their first byte. arrivals: handshakes completed on a
 * port a target listens on, accepted or not yet. */
struct bw_inbound_stats {
  __u64 slots[BW_LATENCY_SLOTS];
  __u64 sum_ns;
  __u64 requests;
  __u64 total_slots[BW_LATENCY_SLOTS];
  __u64 total_sum_ns;
  __u64 arrivals;
};

/* The syscalls source: a send/recv-family syscall in flight on a thread. */
struct bw_net_pending {
  __u32 fd;
  __u32 dir; /* 0 = receive, 1 = send */
};

#endif
