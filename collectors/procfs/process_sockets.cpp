// fd → socket → peer resolution for one process; see process_sockets.hpp.
#include "collectors/procfs/process_sockets.hpp"

#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "collectors/procfs/proc_io.hpp"

namespace boundwise::procfs {

FdInfo ProcessSockets::resolve(int fd, std::uint64_t round) {
  char link[512];
  std::string path = "fd/" + std::to_string(fd);
  ssize_t n = ::readlinkat(dir_(), path.c_str(), link, sizeof link - 1);
  if (n <= 0) return {};
  std::string_view text(link, static_cast<std::size_t>(n));
  auto cached = fds_.find(fd);
  if (cached != fds_.end() && cached->second.link == text &&
      cached->second.info.kind != FdInfo::Kind::unknown) {
    return cached->second.info;
  }
  FdTarget target = parse_fd_link(text);
  FdInfo info;
  info.inode = target.inode;
  switch (target.kind) {
    case FdTarget::Kind::pipe:
      info.kind = FdInfo::Kind::pipe;
      break;
    case FdTarget::Kind::file:
      info.kind = FdInfo::Kind::file;
      break;
    case FdTarget::Kind::anon_inode:
    case FdTarget::Kind::other:
      info.kind = FdInfo::Kind::other;
      break;
    case FdTarget::Kind::socket:
      info = classify_socket(target.inode, round);
      break;
  }
  fds_[fd] = CachedFd{std::string(text), info};
  return info;
}

std::optional<FdInfo> ProcessSockets::poll_target(const SyscallState& sys, std::uint64_t round) {
  constexpr long kPoll = 7, kPpoll = 271;
  if (sys.number != kPoll && sys.number != kPpoll) return std::nullopt;
  std::uint64_t nfds = sys.args[1];
  if (nfds == 0 || nfds > 8) return std::nullopt;
  pollfd fds[8];
  iovec local{fds, nfds * sizeof(pollfd)};
  // An address in the target process, never dereferenced here.
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  iovec remote{reinterpret_cast<void*>(sys.args[0]), nfds * sizeof(pollfd)};
  if (::process_vm_readv(pid_, &local, 1, &remote, 1, 0) !=
      static_cast<ssize_t>(nfds * sizeof(pollfd))) {
    return std::nullopt;
  }
  std::optional<FdInfo> only;
  for (std::uint64_t i = 0; i < nfds; ++i) {
    if (fds[i].fd < 0) continue;
    FdInfo info = resolve(fds[i].fd, round);
    if (only && only->inode != info.inode) return std::nullopt;  // several objects
    only = info;
  }
  return only;
}

FdInfo ProcessSockets::classify_socket(std::uint64_t inode, std::uint64_t round) {
  auto lookup = [&]() -> std::optional<FdInfo> {
    FdInfo info;
    info.inode = inode;
    auto it = sockets_.find(inode);
    if (it != sockets_.end()) {
      const auto& e = it->second;
      if (e.state == kTcpListen) {
        info.kind = FdInfo::Kind::inet_listening;
      } else if (e.state == kTcpEstablished && listening_ports_.count(e.local.port) != 0) {
        // Server side: the peer is a client, not something this process depends on.
        info.kind = FdInfo::Kind::inet_accepted;
        info.remote = e.remote;
      } else if (e.remote.port != 0) {
        info.kind = FdInfo::Kind::inet_connected;
        info.remote = e.remote;
      } else {
        info.kind = FdInfo::Kind::inet_other;
      }
      return info;
    }
    if (unix_inodes_.count(inode) != 0) {
      info.kind = FdInfo::Kind::unix_socket;
      return info;
    }
    return std::nullopt;
  };
  if (auto found = lookup()) return *found;
  if (tables_round_ != round) {
    load_tables(round);
    if (auto found = lookup()) return *found;
  }
  FdInfo info;
  info.kind = FdInfo::Kind::unknown;  // e.g. netlink; retried next time
  info.inode = inode;
  return info;
}

void ProcessSockets::load_tables(std::uint64_t round) {
  tables_round_ = round;
  sockets_.clear();
  unix_inodes_.clear();
  listening_ports_.clear();
  struct Table {
    const char* path;
    IpAddress::Family family;
    bool udp;
  };
  for (Table t : {Table{"net/tcp", IpAddress::Family::v4, false},
                  Table{"net/tcp6", IpAddress::Family::v6, false},
                  Table{"net/udp", IpAddress::Family::v4, true},
                  Table{"net/udp6", IpAddress::Family::v6, true}}) {
    auto text = read_at(dir_(), t.path);
    if (!text) continue;
    auto rows = parse_net_sockets(*text, t.family);
    if (!rows) continue;  // a malformed table: its sockets stay unknown
    for (auto& e : *rows) {
      if (t.udp && e.state == 7) e.state = 0;  // UDP "closed" = unconnected; not a listener
      if (!t.udp && e.state == kTcpListen) listening_ports_.insert(e.local.port);
      sockets_[e.inode] = e;
    }
  }
  if (auto text = read_at(dir_(), "net/unix")) {
    if (auto inodes = parse_net_unix_inodes(*text)) {
      unix_inodes_.insert(inodes->begin(), inodes->end());
    }
  }
}

std::vector<SocketEntry> ProcessSockets::held_sockets(std::uint64_t round) {
  std::vector<SocketEntry> out;
  if (tables_round_ != round) load_tables(round);
  const int dir = dir_();
  for (int fd : list_numeric(dir, "fd")) {
    char link[128];
    std::string path = "fd/" + std::to_string(fd);
    ssize_t n = ::readlinkat(dir, path.c_str(), link, sizeof link - 1);
    if (n <= 0) continue;
    auto target = parse_fd_link(std::string_view(link, static_cast<std::size_t>(n)));
    if (target.kind != FdTarget::Kind::socket) continue;
    auto it = sockets_.find(target.inode);
    if (it != sockets_.end()) out.push_back(it->second);
  }
  return out;
}

const std::vector<Endpoint>& ProcessSockets::outbound(std::uint64_t round,
                                                      std::uint64_t refresh_rounds) {
  if (outbound_round_ != kNever && round - outbound_round_ < refresh_rounds) return outbound_;
  outbound_round_ = round;
  outbound_.clear();
  auto held = held_sockets(round);
  std::set<std::uint16_t> listening;
  for (const auto& e : held) {
    if (e.state == kTcpListen) listening.insert(e.local.port);
  }
  std::set<Endpoint> seen;
  for (const auto& e : held) {
    if (e.state == kTcpEstablished && listening.count(e.local.port) == 0 &&
        seen.insert(e.remote).second) {
      outbound_.push_back(e.remote);
    }
  }
  return outbound_;
}

int ProcessSockets::established(std::uint64_t round) {
  load_tables(round);  // fresh: connections come and go within a window
  int n = 0;
  for (const auto& e : held_sockets(round)) {
    if (e.state == kTcpEstablished) ++n;
  }
  return n;
}

}  // namespace boundwise::procfs
