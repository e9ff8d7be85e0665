// SPDX-License-Identifier: GPL-2.0
/* net: per-dependency request latency, connect latency, requests and bytes of TCP
 * clients, and inbound request latency of TCP servers, per workload. Layouts in
 * net.h; targets from targets.bpf.h. Aggregated in the kernel, nothing streamed.
 *
 * A socket is a little state machine (bw_net_sock.phase). Client side: the first
 * byte sent while idle starts a request, the first byte received back ends it.
 * Server side (passive sockets): the first byte received while idle starts a
 * request, the first byte sent back ends it.
 *
 * Two sources of "bytes moved on a socket", one loaded (the loader sets autoload):
 *  - tracepoints: tp_btf/sock_send_length and sock_recv_length (kernel 6.3+);
 *  - syscalls: raw_tp/sys_enter + sys_exit of the read/write/send/recv family, the
 *    fd resolved to its socket through the current task's file table.
 * Connection state (connect latency, passive marking, removal on close) comes from
 * tp_btf/inet_sock_set_state with either source. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "collectors/ebpf/net.h"
#include "collectors/ebpf/targets.bpf.h"

#define BW_AF_INET 2
#define BW_AF_INET6 10
#define BW_IPPROTO_TCP 6
#define BW_S_IFMT 00170000
#define BW_S_IFSOCK 0140000

/* enum tcp_state values (include/net/tcp_states.h) */
#define BW_TCP_ESTABLISHED 1
#define BW_TCP_SYN_SENT 2
#define BW_TCP_SYN_RECV 3
#define BW_TCP_CLOSE 7
#define BW_TCP_LISTEN 10

char LICENSE[] SEC("license") = "GPL";

/* Incremented by user space at every attach: a request that started before the
 * programs were last detached (its end may have gone unseen) is not measured. */
__u32 bw_net_gen SEC(".bss");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH); /* LRU: a socket whose close was missed ages out */
  __uint(max_entries, BW_NET_MAX_SOCKETS);
  __type(key, __u64); /* struct sock * */
  __type(value, struct bw_net_sock);
} bw_net_socks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, BW_NET_MAX_ENDPOINTS);
  __type(key, struct bw_net_key);
  __type(value, struct bw_net_stats);
} bw_net_stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, BW_MAX_WORKLOADS);
  __type(key, __u32); /* workload id */
  __type(value, struct bw_inbound_stats);
} bw_inbound_stats SEC(".maps");

/* Local ports targets listen on (listen() seen here, or filled by user space from
 * /proc/PID/net/tcp{,6} when a process becomes a target). */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, BW_NET_MAX_LISTEN_PORTS);
  __type(key, __u16);   /* local port, host byte order */
  __type(value, __u32); /* workload id */
} bw_listen_ports SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, BW_NET_MAX_PENDING);
  __type(key, __u32); /* tid */
  __type(value, struct bw_net_pending);
} bw_net_pending SEC(".maps");

/* A zeroed bw_net_stats to create entries from: too big for the 512-byte stack. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct bw_net_stats);
} bw_net_zero SEC(".maps");

static __always_inline void record_slot(__u64 *slots, __u64 ns) {
  __u32 slot = bw_latency_slot(ns);
  /* The clamp inside bw_latency_slot() is folded away by clang; the verifier needs
   * to see one right before the access. */
  asm volatile("" : "+r"(slot));
  if (slot < BW_LATENCY_SLOTS) __sync_fetch_and_add(&slots[slot], 1);
}

static __always_inline struct bw_net_stats *stats_of(const struct bw_net_key *key) {
  struct bw_net_stats *s = bpf_map_lookup_elem(&bw_net_stats, key);
  __u32 zero = 0;
  if (s) return s;
  s = bpf_map_lookup_elem(&bw_net_zero, &zero);
  if (!s) return 0;
  bpf_map_update_elem(&bw_net_stats, key, s, BPF_NOEXIST);
  return bpf_map_lookup_elem(&bw_net_stats, key);
}

/* TCP over IPv4/IPv6 only. Fills key's endpoint from the socket. */
static __always_inline int endpoint_of(struct sock *sk, struct bw_net_key *key) {
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  __u16 proto = BPF_CORE_READ(sk, sk_protocol);
  if (proto != BW_IPPROTO_TCP) return 0;
  if (family == BW_AF_INET) {
    __u32 addr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    __builtin_memcpy(key->addr, &addr, 4);
    key->family = BW_NET_FAMILY_V4;
  } else if (family == BW_AF_INET6) {
    BPF_CORE_READ_INTO(&key->addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
    key->family = BW_NET_FAMILY_V6;
  } else {
    return 0;
  }
  key->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  return 1;
}

static __always_inline __u16 local_port_of(struct sock *sk) {
  return BPF_CORE_READ(sk, __sk_common.skc_num);
}

/* The state of a targeted task's socket, created at first sight: passive when its
 * local port is one a target listens on (docs/COLLECTORS.md, "net"). */
static __always_inline struct bw_net_sock *sock_of(struct sock *sk, __u32 wid) {
  __u64 id = (__u64)sk;
  struct bw_net_sock *st = bpf_map_lookup_elem(&bw_net_socks, &id);
  struct bw_net_sock fresh = {};
  __u16 lport;
  if (st) return st;
  if (!endpoint_of(sk, &fresh.key)) return 0;
  fresh.key.workload = wid;
  lport = local_port_of(sk);
  fresh.passive = bpf_map_lookup_elem(&bw_listen_ports, &lport) != 0;
  bpf_map_update_elem(&bw_net_socks, &id, &fresh, BPF_NOEXIST);
  return bpf_map_lookup_elem(&bw_net_socks, &id);
}

static __always_inline void on_bytes(struct sock *sk, __u64 bytes, int send) {
  __u32 wid = bw_current_workload();
  struct bw_net_sock *st;
  struct bw_net_stats *s;
  __u64 now;
  __u32 gen;
  if (wid == 0) return;
  st = sock_of(sk, wid);
  if (!st) return;
  now = bpf_ktime_get_ns();
  gen = bw_net_gen;
  if (st->phase != BW_NET_IDLE && st->gen != gen) st->phase = BW_NET_IDLE;
  if (st->passive) {
    __u32 w = st->key.workload;
    struct bw_inbound_stats *in;
    if (!send) {
      if (st->phase != BW_NET_SERVING) {
        st->phase = BW_NET_SERVING;
        st->since_ns = now;
        st->gen = gen;
        /* A connection's first request arrived when the connection did: the time it
         * waited to be accepted is part of its latency (a server with too few workers
         * queues there, unseen by its workers). */
        st->arrived_ns = st->queued_ns != 0 && st->queued_ns < now ? st->queued_ns : now;
        st->queued_ns = 0;
      }
      return;
    }
    if (st->phase != BW_NET_SERVING) return;
    st->phase = BW_NET_IDLE;
    in = bpf_map_lookup_elem(&bw_inbound_stats, &w);
    if (in && now > st->since_ns) {
      __u64 lat = now - st->since_ns;
      __u64 total = now - (st->arrived_ns != 0 && st->arrived_ns <= st->since_ns ? st->arrived_ns
                                                                                 : st->since_ns);
      record_slot(in->slots, lat);
      __sync_fetch_and_add(&in->sum_ns, lat);
      __sync_fetch_and_add(&in->requests, 1);
      record_slot(in->total_slots, total);
      __sync_fetch_and_add(&in->total_sum_ns, total);
    }
    return;
  }
  s = stats_of(&st->key);
  if (!s) return;
  if (send) {
    __sync_fetch_and_add(&s->bytes_sent, bytes);
    if (st->phase != BW_NET_AWAITING) {
      st->phase = BW_NET_AWAITING;
      st->since_ns = now;
      st->gen = gen;
    }
    return;
  }
  __sync_fetch_and_add(&s->bytes_received, bytes);
  if (st->phase != BW_NET_AWAITING) return;
  st->phase = BW_NET_IDLE;
  if (now > st->since_ns) {
    __u64 lat = now - st->since_ns;
    record_slot(s->req_slots, lat);
    __sync_fetch_and_add(&s->req_sum_ns, lat);
    __sync_fetch_and_add(&s->requests, 1);
  }
}

/* ---- source "tracepoints" (kernel 6.3+) ---- */

SEC("tp_btf/sock_send_length")
int BPF_PROG(bw_sock_send, struct sock *sk, int ret, int flags) {
  if (!bw_is_target((__u32)(bpf_get_current_pid_tgid() >> 32))) return 0;
  if (ret > 0) on_bytes(sk, (__u64)ret, 1);
  return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(bw_sock_recv, struct sock *sk, int ret, int flags) {
  if (!bw_is_target((__u32)(bpf_get_current_pid_tgid() >> 32))) return 0;
  if (ret > 0) on_bytes(sk, (__u64)ret, 0);
  return 0;
}

/* ---- source "syscalls" (any kernel with raw tracepoints) ---- */

/* x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). Returns 0 for
 * receive, 1 for send, -1 for anything else. */
static __always_inline int direction_of(long nr) {
  switch (nr) {
    case 0:   /* read */
    case 19:  /* readv */
    case 45:  /* recvfrom */
    case 47:  /* recvmsg */
    case 299: /* recvmmsg */
      return 0;
    case 1:   /* write */
    case 20:  /* writev */
    case 44:  /* sendto */
    case 46:  /* sendmsg */
    case 307: /* sendmmsg */
      return 1;
  }
  return -1;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(bw_sys_enter, struct pt_regs *regs, long nr) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  struct bw_net_pending p = {};
  __u32 tid;
  int dir;
  if (!bw_is_target((__u32)(pid_tgid >> 32))) return 0;
  dir = direction_of(nr);
  if (dir < 0) return 0;
  tid = (__u32)pid_tgid;
  p.fd = (__u32)BPF_CORE_READ(regs, di);
  p.dir = (__u32)dir;
  bpf_map_update_elem(&bw_net_pending, &tid, &p, BPF_ANY);
  return 0;
}

/* fd → struct sock of the current task: task->files->fdt->fd[fd]; a socket when
 * the inode is S_IFSOCK; file->private_data is then its struct socket. */
static __always_inline struct sock *socket_of_fd(__u32 fd) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
  struct file **fds;
  struct file *file = 0;
  struct socket *sock;
  unsigned int max_fds;
  umode_t mode;
  if (!fdt) return 0;
  max_fds = BPF_CORE_READ(fdt, max_fds);
  if (fd >= max_fds) return 0;
  fds = BPF_CORE_READ(fdt, fd);
  if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) != 0 || !file) return 0;
  mode = BPF_CORE_READ(file, f_inode, i_mode);
  if ((mode & BW_S_IFMT) != BW_S_IFSOCK) return 0;
  sock = BPF_CORE_READ(file, private_data);
  if (!sock) return 0;
  return BPF_CORE_READ(sock, sk);
}

SEC("raw_tp/sys_exit")
int BPF_PROG(bw_sys_exit, struct pt_regs *regs, long ret) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  struct bw_net_pending *p;
  struct sock *sk;
  __u32 tid, fd, dir;
  if (!bw_is_target((__u32)(pid_tgid >> 32))) return 0;
  tid = (__u32)pid_tgid;
  p = bpf_map_lookup_elem(&bw_net_pending, &tid);
  if (!p) return 0;
  fd = p->fd;
  dir = p->dir;
  bpf_map_delete_elem(&bw_net_pending, &tid);
  if (ret <= 0) return 0;
  sk = socket_of_fd(fd);
  if (!sk) return 0;
  /* sendmmsg/recvmmsg return a message count, not bytes: counted as one byte each,
   * enough to move the state machine. */
  on_bytes(sk, (__u64)ret, dir == 1);
  return 0;
}

/* A thread that exits inside a syscall never reaches sys_exit. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(bw_net_task_exit, struct task_struct *p) {
  __u32 tgid = p->tgid;
  __u32 tid;
  if (!bw_is_target(tgid)) return 0;
  tid = p->pid;
  bpf_map_delete_elem(&bw_net_pending, &tid);
  return 0;
}

/* ---- connection state (both sources) ---- */

/* Runs in the context of whoever changes the state: the connecting or listening task
 * for SYN_SENT and LISTEN (the target check applies), softirq for the rest (keyed by
 * the socket, only sockets already known are touched). */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(bw_inet_state, const struct sock *csk, const int oldstate, const int newstate) {
  struct sock *sk = (struct sock *)csk;
  __u64 id = (__u64)sk;
  struct bw_net_sock *st;
  if (newstate == BW_TCP_SYN_SENT || newstate == BW_TCP_LISTEN) {
    __u32 wid;
    if (!bw_is_target((__u32)(bpf_get_current_pid_tgid() >> 32))) return 0;
    wid = bw_current_workload();
    if (wid == 0) return 0;
    if (newstate == BW_TCP_LISTEN) {
      __u16 lport = local_port_of(sk);
      bpf_map_update_elem(&bw_listen_ports, &lport, &wid, BPF_ANY);
      return 0;
    } else {
      struct bw_net_sock fresh = {};
      if (!endpoint_of(sk, &fresh.key)) return 0;
      fresh.key.workload = wid;
      fresh.syn_ns = bpf_ktime_get_ns();
      bpf_map_update_elem(&bw_net_socks, &id, &fresh, BPF_ANY);
    }
    return 0;
  }
  if (newstate == BW_TCP_CLOSE) {
    bpf_map_delete_elem(&bw_net_socks, &id);
    return 0;
  }
  if (newstate != BW_TCP_ESTABLISHED) return 0;
  if (oldstate == BW_TCP_SYN_SENT) {
    struct bw_net_stats *s;
    __u64 now;
    st = bpf_map_lookup_elem(&bw_net_socks, &id);
    if (!st || st->syn_ns == 0) return 0;
    endpoint_of(sk, &st->key); /* final address and port */
    now = bpf_ktime_get_ns();
    s = stats_of(&st->key);
    if (s && now > st->syn_ns) {
      __u64 lat = now - st->syn_ns;
      record_slot(s->conn_slots, lat);
      __sync_fetch_and_add(&s->conn_sum_ns, lat);
    }
    st->syn_ns = 0;
    return 0;
  }
  if (oldstate == BW_TCP_SYN_RECV) {
    /* An accepted connection on a port a target listens on. */
    __u16 lport = local_port_of(sk);
    __u32 *wid = bpf_map_lookup_elem(&bw_listen_ports, &lport);
    struct bw_net_sock fresh = {};
    struct bw_inbound_stats *in;
    __u32 w;
    if (!wid) return 0;
    if (!endpoint_of(sk, &fresh.key)) return 0;
    w = *wid;
    fresh.key.workload = w;
    fresh.passive = 1;
    fresh.queued_ns = bpf_ktime_get_ns();
    bpf_map_update_elem(&bw_net_socks, &id, &fresh, BPF_ANY);
    in = bpf_map_lookup_elem(&bw_inbound_stats, &w);
    if (in) __sync_fetch_and_add(&in->arrivals, 1);
  }
  return 0;
}
