// Pure attribution rules of the procfs collector: what a sampled thread waits on,
// from its state, its syscall and the kind of fd the syscall names. Kept free of I/O
// so that every rule is unit-tested (docs/COLLECTORS.md lists them).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "classifier/endpoint.hpp"
#include "classifier/reason.hpp"
#include "classifier/window.hpp"
#include "collectors/process/gil_locator.hpp"
#include "collectors/procfs/parse.hpp"

namespace boundwise::procfs {

// What an fd refers to, as far as the sampler resolved it.
struct FdInfo {
  enum class Kind {
    unknown,
    inet_connected,
    inet_accepted,  // a connection a server accepted (its local port is a listening one)
    inet_listening,
    inet_other,
    unix_socket,
    pipe,
    file,
    other
  };
  Kind kind = Kind::unknown;
  std::uint64_t inode = 0;         // sockets and pipes
  std::optional<Endpoint> remote;  // inet_connected, inet_accepted (the client)
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
                      const std::optional<process::GilLocation>& gil, const FdResolver& resolve);

// One thread's evidence for one window (or for the part of it the thread lived).
struct ThreadWindow {
  double lifetime_seconds = 0;  // time the thread existed inside the window
  // schedstat deltas (run time, run-queue time); nullopt when unknown, e.g. the thread
  // exited before the window closed. Then the samples alone are used.
  std::optional<double> run_seconds;
  std::optional<double> queue_seconds;
  // Existed the whole window, never seen running, context switches unchanged.
  bool parked = false;
  std::uint32_t running_samples = 0;
  std::uint32_t blocked_samples = 0;
  PerReason<std::uint32_t> reason_samples{};  // blocked samples by reason
  double period_seconds = 0;                  // the sampling interval
};

struct ThreadSeconds {
  PerReason<double> seconds{};
  // The off-CPU time that was split over the blocked reasons in proportion to the
  // blocked samples; a dependency's wait is off_cpu × its samples / blocked_samples.
  double off_cpu = 0;
};

// Seconds per reason for one thread. With schedstat: on_cpu = run, runqueue = queue,
// off-CPU = lifetime − run − queue (never negative) split over the blocked samples'
// reasons (no blocked sample → other); a parked thread's whole lifetime is idle.
// Without schedstat: on_cpu = running samples × period, off-CPU = blocked samples ×
// period. Negative or non-finite inputs count as zero.
ThreadSeconds split_thread_time(const ThreadWindow& t);

}  // namespace boundwise::procfs
