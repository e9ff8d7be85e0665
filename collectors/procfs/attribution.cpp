// Attribution rules. Syscall numbers are x86_64 (arch/x86/entry/syscalls/syscall_64.tbl).
#include "collectors/procfs/attribution.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "classifier/numbers.hpp"

namespace boundwise::procfs {

namespace {

enum Syscall : long {
  kRead = 0,
  kWrite = 1,
  kPoll = 7,
  kPread64 = 17,
  kPwrite64 = 18,
  kReadv = 19,
  kWritev = 20,
  kSelect = 23,
  kMsync = 26,
  kNanosleep = 35,
  kPause = 34,
  kConnect = 42,
  kAccept = 43,
  kSendto = 44,
  kRecvfrom = 45,
  kSendmsg = 46,
  kRecvmsg = 47,
  kWait4 = 61,
  kFlock = 73,
  kFsync = 74,
  kFdatasync = 75,
  kSync = 162,
  kFutex = 202,
  kClockNanosleep = 230,
  kEpollWait = 232,
  kWaitid = 247,
  kPselect6 = 270,
  kPpoll = 271,
  kSyncFileRange = 277,
  kEpollPwait = 281,
  kAccept4 = 288,
  kPreadv = 295,
  kPwritev = 296,
  kRecvmmsg = 299,
  kSyncfs = 306,
  kSendmmsg = 307,
  kPreadv2 = 327,
  kPwritev2 = 328,
  kEpollPwait2 = 441,
  kFutexWaitv = 449,
};

bool names_fd_for_io(long nr) {
  switch (nr) {
    case kRead:
    case kWrite:
    case kPread64:
    case kPwrite64:
    case kReadv:
    case kWritev:
    case kPreadv:
    case kPwritev:
    case kPreadv2:
    case kPwritev2:
    case kSendto:
    case kRecvfrom:
    case kSendmsg:
    case kRecvmsg:
    case kRecvmmsg:
    case kSendmmsg:
    case kConnect:
    case kAccept:
    case kAccept4:
      return true;
    default:
      return false;
  }
}

bool is_write(long nr) {
  switch (nr) {
    case kWrite:
    case kPwrite64:
    case kWritev:
    case kPwritev:
    case kPwritev2:
    case kSendto:
    case kSendmsg:
    case kSendmmsg:
      return true;
    default:
      return false;
  }
}

Attribution from_fd(long nr, const FdInfo& fd) {
  Attribution a;
  switch (fd.kind) {
    case FdInfo::Kind::inet_connected:
      a.reason = Reason::net;
      a.endpoint = fd.remote;
      a.wait_object = fd.inode;
      break;
    case FdInfo::Kind::inet_listening:
      // accept() on a listening socket: a server waiting for clients.
      a.reason = Reason::idle;
      break;
    case FdInfo::Kind::inet_accepted:
      // A server's connection to one of its clients: reading, it waits for the
      // client's next request (idle, like accept: the client is no dependency);
      // writing, for a client slow to take the response (network, no dependency).
      a.reason = is_write(nr) ? Reason::net : Reason::idle;
      a.wait_object = a.reason == Reason::net ? fd.inode : 0;
      break;
    case FdInfo::Kind::inet_other:
      // An unconnected UDP socket or a TCP socket mid-connect: network, no endpoint.
      a.reason = Reason::net;
      a.wait_object = fd.inode;
      break;
    case FdInfo::Kind::unix_socket:
    case FdInfo::Kind::pipe:
      a.reason = (nr == kAccept || nr == kAccept4) ? Reason::idle : Reason::ipc;
      break;
    case FdInfo::Kind::file:
      a.reason = Reason::disk;
      break;
    case FdInfo::Kind::unknown:
    case FdInfo::Kind::other:
      a.reason = Reason::other;
      break;
  }
  return a;
}

}  // namespace

Attribution attribute(char state, const SyscallState& s, bool major_fault_rose,
                      const std::optional<process::GilLocation>& gil, const FdResolver& resolve) {
  Attribution a;
  if (state == 'R') {
    a.reason = Reason::on_cpu;
    return a;
  }
  if (state == 'D' && major_fault_rose) {
    a.reason = Reason::paging;
    return a;
  }
  if (s.running || s.number < 0) {
    a.reason = state == 'D' ? Reason::disk : Reason::other;
    return a;
  }
  const long nr = s.number;
  if (names_fd_for_io(nr)) {
    auto fd = static_cast<long long>(s.args[0]);
    if (fd < 0 || fd > (1 << 24)) {
      a.reason = state == 'D' ? Reason::disk : Reason::other;
      return a;
    }
    a = from_fd(nr, resolve(static_cast<int>(fd)));
    if (state == 'D' && a.reason == Reason::other) a.reason = Reason::disk;
    return a;
  }
  switch (nr) {
    case kFutex:
    case kFutexWaitv:
      a.reason = (gil && nr == kFutex && gil->contains(s.args[0])) ? Reason::gil : Reason::lock;
      if (a.reason == Reason::lock && nr == kFutex) a.futex_address = s.args[0];
      return a;
    case kNanosleep:
    case kClockNanosleep:
    case kPause:
      a.reason = Reason::sleep;
      return a;
    case kPoll:
    case kPpoll:
    case kSelect:
    case kPselect6:
      if (s.args[1] == 0 && nr != kSelect && nr != kPselect6) {  // poll(fds, nfds = 0, ...)
        a.reason = Reason::sleep;
        return a;
      }
      if ((nr == kSelect || nr == kPselect6) && s.args[0] == 0) {  // select(nfds = 0, ...)
        a.reason = Reason::sleep;
        return a;
      }
      a.reason = Reason::idle;
      a.multiplexed = true;
      return a;
    case kEpollWait:
    case kEpollPwait:
    case kEpollPwait2:
      a.reason = Reason::idle;
      a.multiplexed = true;
      a.event_loop = true;
      return a;
    case kWait4:
    case kWaitid:
      // A parent waiting for children: their time is accounted on them.
      a.reason = Reason::idle;
      return a;
    case kFsync:
    case kFdatasync:
    case kSyncFileRange:
    case kSync:
    case kSyncfs:
    case kMsync:
    case kFlock:
      a.reason = nr == kFlock ? Reason::lock : Reason::disk;
      return a;
    default:
      a.reason = state == 'D' ? Reason::disk : Reason::other;
      return a;
  }
}

ThreadSeconds split_thread_time(const ThreadWindow& t) {
  ThreadSeconds out;
  const double lifetime = non_negative(t.lifetime_seconds);
  const double period = non_negative(t.period_seconds);
  if (t.run_seconds && t.queue_seconds) {
    const double run = non_negative(*t.run_seconds);
    const double queue = non_negative(*t.queue_seconds);
    if (t.parked) {
      out.seconds[index_of(Reason::idle)] = lifetime;
      return out;
    }
    out.seconds[index_of(Reason::on_cpu)] = run;
    out.seconds[index_of(Reason::runqueue)] = queue;
    out.off_cpu = std::max(0.0, lifetime - run - queue);
    if (t.blocked_samples == 0) {
      out.seconds[index_of(Reason::other)] += out.off_cpu;
      out.off_cpu = 0;  // nothing to split over dependencies
      return out;
    }
  } else {
    out.seconds[index_of(Reason::on_cpu)] = t.running_samples * period;
    out.off_cpu = t.blocked_samples * period;
    if (t.blocked_samples == 0) return out;
  }
  std::uint64_t counted = 0;
  for (auto n : t.reason_samples) counted += n;
  // reason_samples may lag blocked_samples (never exceed it in the collector); the
  // divisor is the larger so that shares never sum above one.
  const double total = static_cast<double>(std::max<std::uint64_t>(counted, t.blocked_samples));
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    out.seconds[i] += out.off_cpu * static_cast<double>(t.reason_samples[i]) / total;
  }
  return out;
}

}  // namespace boundwise::procfs
