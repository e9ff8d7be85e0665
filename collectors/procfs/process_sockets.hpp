// What one target process's fds are: sockets resolved to their peers through the
// process's own network-namespace tables (/proc/PID/net/*), pipes and files. Tables
// are read lazily — only when an unknown socket is met, at most once per sampling
// round — so a process that only waits on known sockets costs a readlink per sample.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "collectors/procfs/attribution.hpp"
#include "collectors/procfs/parse.hpp"

namespace boundwise::procfs {

class ProcessSockets {
 public:
  // dir: returns an open fd of /proc/PID owned by the caller (valid until the next
  // call), or -1 when the process is gone.
  ProcessSockets(int pid, std::function<int()> dir) : pid_(pid), dir_(std::move(dir)) {}

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

  // ESTABLISHED TCP connections the process holds, from freshly read tables.
  int established(std::uint64_t round);

 private:
  struct CachedFd {
    std::string link;
    FdInfo info;
  };

  FdInfo classify_socket(std::uint64_t inode, std::uint64_t round);
  void load_tables(std::uint64_t round);
  std::vector<SocketEntry> held_sockets(std::uint64_t round);

  static constexpr std::uint64_t kNever = ~std::uint64_t{0};

  int pid_;
  std::function<int()> dir_;
  std::unordered_map<int, CachedFd> fds_;
  std::unordered_map<std::uint64_t, SocketEntry> sockets_;  // by inode
  std::set<std::uint64_t> unix_inodes_;
  std::set<std::uint16_t> listening_ports_;  // TCP, anywhere in the network namespace
  std::uint64_t tables_round_ = kNever;
  std::vector<Endpoint> outbound_;
  std::uint64_t outbound_round_ = kNever;
};

}  // namespace boundwise::procfs
