#include "collectors/ebpf/net.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "collectors/counter_delta.hpp"
#include "collectors/ebpf/bpf_util.hpp"
#include "collectors/ebpf/net.h"
#include "collectors/ebpf/net.skel.h"
#include "collectors/ebpf/net_counters.hpp"
#include "collectors/ebpf/skeleton_tool.hpp"
#include "collectors/ebpf/targets.hpp"
#include "collectors/procfs/parse.hpp"

namespace boundwise::ebpf {

namespace {

struct KeyLess {
  bool operator()(const bw_net_key& a, const bw_net_key& b) const {
    return std::memcmp(&a, &b, sizeof a) < 0;
  }
};

// A LISTEN socket of a network namespace: its inode and local port.
struct Listener {
  std::uint64_t inode = 0;
  std::uint16_t port = 0;
};

// The LISTEN sockets of the network namespace of the process whose /proc directory is
// `dir`, from its net/tcp{,6} (lines "sl local_address rem_address st tx:rx tr:when
// retrnsmt uid timeout inode", hex "ADDR:PORT", st 0A = LISTEN). The files list every
// socket of the namespace, whichever process holds it.
std::vector<Listener> namespace_listeners(const std::string& dir) {
  std::vector<Listener> out;
  for (const char* file : {"/net/tcp", "/net/tcp6"}) {
    std::ifstream in(dir + file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, st, queues, timer, retransmits;
      std::uint64_t uid = 0, timeout = 0, inode = 0;
      if (!(fields >> sl >> local >> remote >> st >> queues >> timer >> retransmits >> uid >>
            timeout >> inode) ||
          st != "0A")
        continue;
      auto colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      out.push_back(
          {inode, static_cast<std::uint16_t>(std::stoul(local.substr(colon + 1), nullptr, 16))});
    }
  }
  return out;
}

// The inodes of the sockets among the fds of the process whose /proc directory is `dir`.
std::set<std::uint64_t> own_sockets(const std::string& dir) {
  std::set<std::uint64_t> own;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator(dir + "/fd", ec)) {
    std::error_code link_ec;
    const auto link = std::filesystem::read_symlink(fd.path(), link_ec);
    if (link_ec) continue;  // closed meanwhile
    const procfs::FdTarget t = procfs::parse_fd_link(link.string());
    if (t.kind == procfs::FdTarget::Kind::socket) own.insert(t.inode);
  }
  return own;
}

constexpr SkeletonOps<net_bpf> kNetOps{net_bpf__open, net_bpf__load, net_bpf__attach,
                                       net_bpf__detach, net_bpf__destroy};

class NetTool final : public SkeletonTool<net_bpf> {
 public:
  // The generation: requests open across a detach are not measured.
  NetTool(net_bpf* skel, const CollectorSettings& settings)
      : SkeletonTool(skel, kNetOps, &skel->bss->bw_net_gen, "net: attach to socket tracepoints"),
        settings_(settings) {}

  std::string_view name() const override { return "net"; }

  // Ports the new target's network namespace listens on make its sockets on them
  // server side (the rule for connections accepted before the agent saw them).
  void on_new_target(const ProcessKey& key, std::uint32_t wid) override {
    for (std::uint16_t port : listening_ports(key.pid)) {
      bpf_map__update_elem(skel_->maps.bw_listen_ports, &port, sizeof port, &wid, sizeof wid,
                           BPF_NOEXIST);
    }
  }

  // Whatever the kernel counted under a reused id belonged to the workload before.
  void on_id_assigned(std::uint32_t wid) override {
    const bpf_map* map = skel_->maps.bw_net_stats;
    std::vector<bw_net_key> stale;
    bw_net_key key{}, next{};
    const void* prev = nullptr;
    while (bpf_map__get_next_key(map, prev, &next, sizeof next) == 0) {
      if (next.workload == wid) stale.push_back(next);
      key = next;
      prev = &key;
    }
    for (const auto& k : stale) {
      bpf_map__delete_elem(map, &k, sizeof k, 0);
      baselines_.erase(k);
    }
    inbound_baselines_[wid] = inbound(wid);
  }

  void contribute(const WindowContext& ctx, EvidenceSet& evidence) override {
    std::map<std::uint32_t, MeasuredNet*> by_id;
    for (auto& [name, w] : evidence.workloads) {
      auto id = ctx.ids->find(name);
      if (id != ctx.ids->end()) by_id[id->second] = &w.net.emplace();
    }
    const double f = ctx.attached_fraction > 0 ? ctx.attached_fraction : 1.0;
    // Dependencies: one walk over the bounded endpoint map.
    std::map<bw_net_key, NetCounters, KeyLess> seen;
    for_each_entry<bw_net_key, bw_net_stats>(skel_->maps.bw_net_stats,
                                             [&](const bw_net_key& k, const bw_net_stats& value) {
                                               seen.emplace(k, counters_of(value));
                                             });
    for (const auto& [k, now] : seen) {
      auto base = baselines_.find(k);
      // A key first seen in this window was created in it: it diffs from zero.
      std::optional<MeasuredDependency> window =
          net_delta(now, base == baselines_.end() ? NetCounters{} : base->second, f);
      auto w = by_id.find(k.workload);
      if (w == by_id.end() || !window) continue;  // not a window workload, or reset
      const MeasuredDependency& d = *window;
      if (d.request_latency.count() == 0 && d.connect_latency.count() == 0 && d.requests == 0 &&
          d.bytes_sent == 0 && d.bytes_received == 0)
        continue;
      // Two keys of one workload can be one endpoint (an IPv4-mapped IPv6 address).
      auto [at, fresh] = w->second->dependencies.try_emplace(endpoint_of(k), d);
      if (!fresh) {
        at->second.request_latency.merge(d.request_latency);
        at->second.connect_latency.merge(d.connect_latency);
        at->second.requests += d.requests;
        at->second.bytes_sent += d.bytes_sent;
        at->second.bytes_received += d.bytes_received;
      }
    }
    baselines_ = std::move(seen);  // evicted entries leave the baselines too

    for (auto& [wid, w] : by_id) {
      InboundCounters now = inbound(wid);
      InboundCounters& base = inbound_baselines_[wid];
      inbound_delta(now, base, f, *w);  // false: reset (no value), or nothing arrived
      base = now;
    }
  }

 private:
  InboundCounters inbound(std::uint32_t wid) const {
    bw_inbound_stats s{};
    if (bpf_map__lookup_elem(skel_->maps.bw_inbound_stats, &wid, sizeof wid, &s, sizeof s, 0) != 0)
      return {};
    return counters_of(s);
  }

  // The ports the process listens on: those of its own sockets (its fds) among the
  // LISTEN sockets of its network namespace. Without the fd check, the first target of
  // a namespace would claim every port listened on in it, its neighbours' too. A
  // process holding no socket reads no table, and a namespace's LISTEN sockets are read
  // at most once a second: a tree of 2 000 new targets in one namespace reads
  // net/tcp{,6} once, not 2 000 times (each read walks the kernel's whole TCP hash
  // table). The namespace is told by the inode procfs gives its net/tcp, one per
  // namespace.
  std::vector<std::uint16_t> listening_ports(int tgid) {
    const std::string dir = settings_.proc_root + "/" + std::to_string(tgid);
    const std::set<std::uint64_t> own = own_sockets(dir);
    std::vector<std::uint16_t> out;
    if (own.empty()) return out;
    for (const Listener& l : listeners_of_namespace(dir)) {
      if (own.contains(l.inode)) out.push_back(l.port);
    }
    return out;
  }

  std::vector<Listener> listeners_of_namespace(const std::string& dir) {
    constexpr std::uint64_t kFreshNs = 1'000'000'000;
    struct stat st {};
    if (::stat((dir + "/net/tcp").c_str(), &st) != 0) return namespace_listeners(dir);
    const std::uint64_t now = monotonic_ns();
    auto& entry = listeners_by_namespace_[{st.st_dev, st.st_ino}];
    if (entry.read_ns == 0 || now - entry.read_ns > kFreshNs) {
      entry.listeners = namespace_listeners(dir);
      entry.read_ns = now;
    }
    std::vector<Listener> out = entry.listeners;
    for (auto it = listeners_by_namespace_.begin(); it != listeners_by_namespace_.end();) {
      it = now - it->second.read_ns > 60 * kFreshNs ? listeners_by_namespace_.erase(it)
                                                    : std::next(it);
    }
    return out;
  }

  struct NamespaceListeners {
    std::vector<Listener> listeners;
    std::uint64_t read_ns = 0;
  };

  CollectorSettings settings_;
  std::map<std::pair<dev_t, ino_t>, NamespaceListeners> listeners_by_namespace_;
  std::map<bw_net_key, NetCounters, KeyLess> baselines_;
  std::map<std::uint32_t, InboundCounters> inbound_baselines_;
};

bool kernel_has_sock_length_tracepoints() {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) return false;
  const bool found =
      btf__find_by_name_kind(vmlinux, "btf_trace_sock_send_length", BTF_KIND_TYPEDEF) >= 0 &&
      btf__find_by_name_kind(vmlinux, "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF) >= 0;
  btf__free(vmlinux);
  return found;
}

}  // namespace

Result<std::string> resolve_net_source(const std::string& configured) {
  if (configured == "tracepoints" || configured == "syscalls") return configured;
  if (configured == "auto" || configured.empty())
    return std::string(kernel_has_sock_length_tracepoints() ? "tracepoints" : "syscalls");
  return Error{"net: unknown ebpf.net_source \"" + configured +
               "\" (expected auto, tracepoints or syscalls)"};
}

Result<std::unique_ptr<Tool>> load_net_tool(const ToolContext& ctx) {
  auto source = resolve_net_source(ctx.options->net_source);
  if (!source) return source.error();
  const bool tracepoints = *source == "tracepoints";
  auto tool = load_skeleton_tool(
      "net", kNetOps, ctx,
      [tracepoints](net_bpf* skel) {
        bpf_program__set_autoload(skel->progs.bw_sock_send, tracepoints);
        bpf_program__set_autoload(skel->progs.bw_sock_recv, tracepoints);
        bpf_program__set_autoload(skel->progs.bw_sys_enter, !tracepoints);
        bpf_program__set_autoload(skel->progs.bw_sys_exit, !tracepoints);
        bpf_program__set_autoload(skel->progs.bw_net_task_exit, !tracepoints);
      },
      [&ctx](net_bpf* skel) { return std::make_unique<NetTool>(skel, *ctx.settings); });
  if (!tool) {
    return Error{tool.error().message + " (source " + *source + ")"};
  }
  auto log = spdlog::get("ebpf") ? spdlog::get("ebpf") : spdlog::default_logger();
  log->info("ebpf_net: socket traffic from {} (ebpf.net_source: {})", *source,
            ctx.options->net_source);
  return tool;
}

}  // namespace boundwise::ebpf
