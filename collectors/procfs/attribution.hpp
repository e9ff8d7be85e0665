// Pure attribution rules of the procfs collector: what a sampled thread waits on,
// from its state, its syscall and the kind of fd the syscall names. Kept free of I/O
// so that every rule is unit-tested (docs/COLLECTORS.md lists them).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "classifier/endpoint.hpp"
#include "classifier/reason.hpp"
#include "collectors/procfs/gil_locator.hpp"
#include "collectors/procfs/parse.hpp"

namespace boundwise::procfs {

// What an fd refers to, as far as the sampler resolved it.
struct FdInfo {
  enum class Kind {
    unknown,
    inet_connected,
    inet_listening,
    inet_other,
    unix_socket,
    pipe,
    file,
    other
  };
  Kind kind = Kind::unknown;
  std::uint64_t inode = 0;         // sockets and pipes
  std::optional<Endpoint> remote;  // inet_connected
};

// One blocked (or running) sample, attributed.
struct Attribution {
  Reason reason = Reason::other;
  std::optional<Endpoint> endpoint;  // reason net on one socket: the remote end
  std::uint64_t wait_object = 0;     // socket inode (for blocked-interval tracking); 0 = none
  // A wait over many fds (epoll/poll/select): the caller decides between net (the
  // process has outbound connections) and idle, since no single fd is known.
  bool multiplexed = false;
  bool event_loop = false;  // epoll_wait family
  // futex waits: the futex word's address. The caller turns a lone waiter into idle
  // (waiting for a signal: a condition, an event, a queue) and keeps lock only when two
  // or more threads queue on the same word in one sampling round (contention).
  std::uint64_t futex_address = 0;
};

using FdResolver = std::function<FdInfo(int fd)>;

// state: the task's state letter from stat ('R', 'S', 'D', ...). major_fault_rose: the
// thread's major-fault count increased since its previous sample. `resolve` is called
// at most once, only for syscalls that name an fd.
Attribution attribute(char state, const SyscallState& syscall, bool major_fault_rose,
                      const std::optional<GilLocation>& gil, const FdResolver& resolve);

}  // namespace boundwise::procfs
