// What one target process's fds are: sockets resolved to their peers through the
// process's own network-namespace tables (/proc/PID/net/*), pipes and files. Tables
// are read lazily — only when an unknown socket is met, at most once per sampling
// round — so a process that only waits on known sockets costs a readlink per sample.
// The tables are one per network namespace, not per process: every target in a
// namespace shares one NetTables read (a tree of 2 000 processes reads them once, not
// 2 000 times; each read walks the kernel's whole TCP hash table).
#pragma once

#include <sys/types.h>

#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "collectors/procfs/attribution.hpp"
#include "collectors/procfs/parse.hpp"

namespace boundwise::procfs {

// One network namespace's socket tables.
struct SocketTables {
  std::unordered_map<std::uint64_t, SocketEntry> sockets;  // by inode
  std::set<std::uint64_t> unix_inodes;
  std::set<std::uint16_t> listening_ports;  // TCP, anywhere in the namespace
};

// Which namespace a process's tables belong to: the device and inode of its
// /proc/PID/net/tcp, which procfs creates once per network namespace (so two processes
// share tables exactly when they share the namespace; no ptrace right is needed, unlike
// /proc/PID/ns/net). When that cannot be read, the process's own (pid) key.
struct NamespaceKey {
  bool by_pid = false;
  dev_t dev = 0;
  ino_t ino = 0;
  auto operator<=>(const NamespaceKey&) const = default;
};

// The tables of the namespaces the targets live in, shared by their ProcessSockets.
// Not thread-safe (one collector's thread).
class NetTables {
 public:
  static NamespaceKey key_of(int proc_pid_dir, int pid);

  // The tables last read for `key`, whenever that was; nullptr if never.
  const SocketTables* cached(const NamespaceKey& key) const;
  // The tables for `key` read in `round`: read now through proc_pid_dir unless they
  // already were in this round (and not expired since).
  const SocketTables& fresh(const NamespaceKey& key, int proc_pid_dir, std::uint64_t round);
  // The next fresh() of every namespace reads its tables again; namespaces nobody
  // asked for since the previous expire() are forgotten (bounded by live namespaces).
  void expire();

 private:
  struct Entry {
    SocketTables tables;
    std::optional<std::uint64_t> round;  // when read; nullopt: expired
    bool used = true;                    // since the last expire()
  };
  std::map<NamespaceKey, Entry> by_namespace_;
};

class ProcessSockets {
 public:
  // dir: returns an open fd of /proc/PID owned by the caller (valid until the next
  // call), or -1 when the process is gone. tables: shared with the other processes of
  // the caller (outliving this object); nullptr: this process's own.
  ProcessSockets(int pid, std::function<int()> dir, NetTables* tables = nullptr);

  // What fd refers to now. `round` is the caller's sampling round (tables are
  // re-read at most once per round).
  FdInfo resolve(int fd, std::uint64_t round);

  // For poll()/ppoll() over at most 8 fds that are all one socket: that socket. Reads
  // the pollfd array from the target with process_vm_readv (read-only; the same
  // privilege as task/TID/syscall). nullopt otherwise.
  std::optional<FdInfo> poll_target(const SyscallState& syscall, std::uint64_t round);

  // Peers of the ESTABLISHED TCP connections this process opened (local port not one
  // of its listening ports), recomputed at most every `refresh_rounds` rounds.
  const std::vector<Endpoint>& outbound(std::uint64_t round, std::uint64_t refresh_rounds);

  // ESTABLISHED TCP connections the process holds, from the tables as read in `round`
  // (the caller expires the shared tables first for a fresh count). fds_may_have_changed
  // false: the process has not run since the previous call (its fd table is the one
  // listed then, so it is not listed again); a process that holds no socket then costs
  // nothing. Connection states are read from the tables regardless: they change
  // without the process running.
  int established(std::uint64_t round, bool fds_may_have_changed = true);

 private:
  struct CachedFd {
    std::string link;
    FdInfo info;
  };

  FdInfo classify_socket(std::uint64_t inode, std::uint64_t round);
  const SocketTables& tables(std::uint64_t round);
  void list_held();
  std::vector<SocketEntry> held_sockets(std::uint64_t round);

  static constexpr std::uint64_t kNever = ~std::uint64_t{0};

  int pid_;
  std::function<int()> dir_;
  std::unique_ptr<NetTables> own_tables_;  // when not given shared ones
  NetTables* tables_;
  std::optional<NamespaceKey> namespace_;  // found at the first fresh read, kept
  std::unordered_map<int, CachedFd> fds_;
  std::vector<std::uint64_t> held_inodes_;  // socket inodes of the fds, in fd order
  bool held_listed_ = false;
  std::vector<Endpoint> outbound_;
  std::uint64_t outbound_round_ = kNever;
};

}  // namespace boundwise::procfs
