// fd → socket → peer resolution for one process; see process_sockets.hpp.
#include "collectors/procfs/process_sockets.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "collectors/procfs/proc_io.hpp"

namespace boundwise::procfs {

namespace {

// nullopt when the process's net/tcp cannot be read (it has exited, or dir is -1):
// then nothing is known of the namespace, rather than "no sockets".
std::optional<SocketTables> read_tables(int dir) {
  if (dir < 0) return std::nullopt;
  SocketTables out;
  bool any = false;
  struct Table {
    const char* path;
    IpAddress::Family family;
    bool udp;
  };
  for (Table t : {Table{"net/tcp", IpAddress::Family::v4, false},
                  Table{"net/tcp6", IpAddress::Family::v6, false},
                  Table{"net/udp", IpAddress::Family::v4, true},
                  Table{"net/udp6", IpAddress::Family::v6, true}}) {
    auto text = read_at(dir, t.path);
    if (!text) continue;
    any = true;
    auto rows = parse_net_sockets(*text, t.family);
    if (!rows) continue;  // a malformed table: its sockets stay unknown
    for (auto& e : *rows) {
      if (t.udp && e.state == 7) e.state = 0;  // UDP "closed" = unconnected; not a listener
      if (!t.udp && e.state == kTcpListen) out.listening_ports.insert(e.local.port);
      out.sockets[e.inode] = e;
    }
  }
  if (auto text = read_at(dir, "net/unix")) {
    any = true;
    if (auto inodes = parse_net_unix_inodes(*text)) {
      out.unix_inodes.insert(inodes->begin(), inodes->end());
    }
  }
  if (!any) return std::nullopt;
  return out;
}

}  // namespace

NamespaceKey NetTables::key_of(int proc_pid_dir, int pid) {
  struct stat st {};
  if (proc_pid_dir >= 0 && ::fstatat(proc_pid_dir, "net/tcp", &st, 0) == 0) {
    return NamespaceKey{false, st.st_dev, st.st_ino};
  }
  return NamespaceKey{true, 0, static_cast<ino_t>(pid)};
}

const SocketTables* NetTables::cached(const NamespaceKey& key) const {
  auto it = by_namespace_.find(key);
  return it == by_namespace_.end() ? nullptr : &it->second.tables;
}

const SocketTables& NetTables::fresh(const NamespaceKey& key, int proc_pid_dir,
                                     std::uint64_t round) {
  Entry& e = by_namespace_[key];
  e.used = true;
  if (e.round != round) {
    // A process that exited while being read leaves the tables as they were, to be
    // read through the next process that asks.
    if (auto read = read_tables(proc_pid_dir)) {
      e.tables = std::move(*read);
      e.round = round;
    }
  }
  return e.tables;
}

void NetTables::expire() {
  for (auto it = by_namespace_.begin(); it != by_namespace_.end();) {
    if (!it->second.used) {
      it = by_namespace_.erase(it);
      continue;
    }
    it->second.used = false;
    it->second.round.reset();
    ++it;
  }
}

ProcessSockets::ProcessSockets(int pid, std::function<int()> dir, NetTables* tables)
    : pid_(pid),
      dir_(std::move(dir)),
      own_tables_(tables == nullptr ? std::make_unique<NetTables>() : nullptr),
      tables_(tables == nullptr ? own_tables_.get() : tables) {}

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
  auto lookup = [&](const SocketTables* t) -> std::optional<FdInfo> {
    FdInfo info;
    info.inode = inode;
    if (t == nullptr) return std::nullopt;
    auto it = t->sockets.find(inode);
    if (it != t->sockets.end()) {
      const auto& e = it->second;
      if (e.state == kTcpListen) {
        info.kind = FdInfo::Kind::inet_listening;
      } else if (e.state == kTcpEstablished && t->listening_ports.count(e.local.port) != 0) {
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
    if (t->unix_inodes.count(inode) != 0) {
      info.kind = FdInfo::Kind::unix_socket;
      return info;
    }
    return std::nullopt;
  };
  if (namespace_) {
    if (auto found = lookup(tables_->cached(*namespace_))) return *found;
  }
  // Unknown in the tables as last read: read them (at most once per round).
  if (auto found = lookup(&tables(round))) return *found;
  FdInfo info;
  info.kind = FdInfo::Kind::unknown;  // e.g. netlink; retried next time
  info.inode = inode;
  return info;
}

// The namespace is looked up again whenever the tables are needed fresh and the fds
// were listed again (the process may have moved: setns, unshare).
const SocketTables& ProcessSockets::tables(std::uint64_t round) {
  const int dir = dir_();
  if (!namespace_) namespace_ = NetTables::key_of(dir, pid_);
  return tables_->fresh(*namespace_, dir, round);
}

void ProcessSockets::list_held() {
  held_listed_ = true;
  held_inodes_.clear();
  const int dir = dir_();
  namespace_ = NetTables::key_of(dir, pid_);
  for (int fd : list_numeric(dir, "fd")) {
    char link[128];
    std::string path = "fd/" + std::to_string(fd);
    ssize_t n = ::readlinkat(dir, path.c_str(), link, sizeof link - 1);
    if (n <= 0) continue;
    auto target = parse_fd_link(std::string_view(link, static_cast<std::size_t>(n)));
    if (target.kind == FdTarget::Kind::socket) held_inodes_.push_back(target.inode);
  }
}

std::vector<SocketEntry> ProcessSockets::held_sockets(std::uint64_t round) {
  std::vector<SocketEntry> out;
  if (held_inodes_.empty()) return out;  // no socket: no table to read
  const SocketTables& t = tables(round);
  for (std::uint64_t inode : held_inodes_) {
    auto it = t.sockets.find(inode);
    if (it != t.sockets.end()) out.push_back(it->second);
  }
  return out;
}

const std::vector<Endpoint>& ProcessSockets::outbound(std::uint64_t round,
                                                      std::uint64_t refresh_rounds) {
  if (outbound_round_ != kNever && round - outbound_round_ < refresh_rounds) return outbound_;
  outbound_round_ = round;
  outbound_.clear();
  list_held();
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

int ProcessSockets::established(std::uint64_t round, bool fds_may_have_changed) {
  if (fds_may_have_changed || !held_listed_) list_held();
  int n = 0;
  for (const auto& e : held_sockets(round)) {
    if (e.state == kTcpEstablished) ++n;
  }
  return n;
}

}  // namespace boundwise::procfs
