// Pure procfs parsers. Field positions follow proc(5) and fs/proc/array.c; each parser
// tolerates trailing fields added by newer kernels and rejects truncated text.
#include "collectors/procfs/parse.hpp"

#include <charconv>
#include <cstdlib>

namespace boundwise::procfs {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits on runs of spaces/tabs/newlines.
std::vector<std::string_view> fields(std::string_view s) {
  std::vector<std::string_view> out;
  out.reserve(64);  // /proc/PID/stat has 52 fields: one allocation
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\n') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

template <class T>
bool to_number(std::string_view s, T& out, int base = 10) {
  if (s.empty()) return false;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (base == 16 && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) first += 2;
  auto [ptr, ec] = std::from_chars(first, last, out, base);
  return ec == std::errc() && ptr == last;
}

bool to_double(std::string_view s, double& out) {
  if (s.empty() || s.size() > 64) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

Error error(std::string_view file, std::string_view what) {
  return Error{std::string(file) + ": " + std::string(what)};
}

// Iterates "Key:   value" lines, calling f(key, value).
template <class F>
void for_each_key_value(std::string_view text, F&& f) {
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    f(line.substr(0, colon), trim(line.substr(colon + 1)));
  }
}

// "1672 kB" → bytes.
bool kb_to_bytes(std::string_view value, std::uint64_t& out) {
  auto parts = fields(value);
  if (parts.empty()) return false;
  std::uint64_t n = 0;
  if (!to_number(parts[0], n)) return false;
  out = (parts.size() > 1 && parts[1] == "kB") ? n * 1024 : n;
  return true;
}

}  // namespace

Result<TaskStat> parse_stat(std::string_view text) {
  std::size_t open = text.find('(');
  std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return error("stat", "no '(comm)'");
  }
  TaskStat s;
  if (!to_number(trim(text.substr(0, open)), s.pid)) return error("stat", "bad pid");
  s.comm = std::string(text.substr(open + 1, close - open - 1));
  auto f = fields(text.substr(close + 1));
  // f[0] is field 3 (state); field N is f[N - 3].
  if (f.size() < 22) return error("stat", "truncated: fewer than 24 fields");
  if (f[0].size() != 1) return error("stat", "bad state");
  s.state = f[0][0];
  bool ok = to_number(f[1], s.ppid) && to_number(f[6], s.flags) &&
            to_number(f[7], s.minor_faults) && to_number(f[9], s.major_faults) &&
            to_number(f[11], s.utime_ticks) && to_number(f[12], s.stime_ticks) &&
            to_number(f[17], s.num_threads) && to_number(f[19], s.start_time_ticks) &&
            to_number(f[21], s.rss_pages);
  if (!ok) return error("stat", "non-numeric field");
  if (f.size() > 36 && !to_number(f[36], s.processor)) s.processor = -1;
  return s;
}

Result<SchedStat> parse_schedstat(std::string_view text) {
  auto f = fields(text);
  SchedStat s;
  if (f.size() < 3 || !to_number(f[0], s.run_ns) || !to_number(f[1], s.wait_ns) ||
      !to_number(f[2], s.timeslices)) {
    return error("schedstat", "expected three numbers");
  }
  return s;
}

Result<SyscallState> parse_syscall(std::string_view text) {
  auto f = fields(text);
  SyscallState s;
  if (f.size() == 1 && f[0] == "running") {
    s.running = true;
    return s;
  }
  if (f.size() == 3 && f[0] == "-1") {
    if (!to_number(f[1], s.stack_pointer, 16) || !to_number(f[2], s.program_counter, 16)) {
      return error("syscall", "bad sp/pc");
    }
    return s;
  }
  if (f.size() != 9) return error("syscall", "expected 'running', 3 or 9 fields");
  if (!to_number(f[0], s.number) || s.number < 0) return error("syscall", "bad syscall number");
  for (std::size_t i = 0; i < 6; ++i) {
    if (!to_number(f[1 + i], s.args[i], 16)) return error("syscall", "bad argument");
  }
  if (!to_number(f[7], s.stack_pointer, 16) || !to_number(f[8], s.program_counter, 16)) {
    return error("syscall", "bad sp/pc");
  }
  return s;
}

Result<TaskStatus> parse_status(std::string_view text) {
  TaskStatus s;
  bool bad = false;
  int seen = 0;
  for_each_key_value(text, [&](std::string_view key, std::string_view value) {
    if (key == "Name") {
      s.name = std::string(value);
      ++seen;
    } else if (key == "Tgid") {
      bad |= !to_number(value, s.tgid);
      ++seen;
    } else if (key == "PPid") {
      bad |= !to_number(value, s.ppid);
    } else if (key == "Threads") {
      bad |= !to_number(value, s.threads);
    } else if (key == "VmRSS") {
      bad |= !kb_to_bytes(value, s.vm_rss_bytes);
    } else if (key == "voluntary_ctxt_switches") {
      bad |= !to_number(value, s.voluntary_ctxt_switches);
      ++seen;
    } else if (key == "nonvoluntary_ctxt_switches") {
      bad |= !to_number(value, s.nonvoluntary_ctxt_switches);
      ++seen;
    }
  });
  if (bad) return error("status", "non-numeric value");
  if (seen < 4) return error("status", "missing Name, Tgid or ctxt_switches");
  return s;
}

Result<IoCounters> parse_io(std::string_view text) {
  IoCounters io;
  bool bad = false;
  int seen = 0;
  for_each_key_value(text, [&](std::string_view key, std::string_view value) {
    std::uint64_t* target = nullptr;
    if (key == "rchar") target = &io.rchar;
    if (key == "wchar") target = &io.wchar;
    if (key == "syscr") target = &io.syscr;
    if (key == "syscw") target = &io.syscw;
    if (key == "read_bytes") target = &io.read_bytes;
    if (key == "write_bytes") target = &io.write_bytes;
    if (key == "cancelled_write_bytes") target = &io.cancelled_write_bytes;
    if (target != nullptr) {
      bad |= !to_number(value, *target);
      ++seen;
    }
  });
  if (bad) return error("io", "non-numeric value");
  if (seen < 7) return error("io", "missing fields");
  return io;
}

Result<SmapsRollup> parse_smaps_rollup(std::string_view text) {
  SmapsRollup r;
  bool bad = false;
  int seen = 0;
  for_each_key_value(text, [&](std::string_view key, std::string_view value) {
    std::uint64_t* target = nullptr;
    if (key == "Rss") target = &r.rss;
    if (key == "Pss") target = &r.pss;
    if (key == "Shared_Clean") target = &r.shared_clean;
    if (key == "Shared_Dirty") target = &r.shared_dirty;
    if (key == "Private_Clean") target = &r.private_clean;
    if (key == "Private_Dirty") target = &r.private_dirty;
    if (key == "Swap") target = &r.swap;
    if (target != nullptr) {
      bad |= !kb_to_bytes(value, *target);
      ++seen;
    }
  });
  if (bad) return error("smaps_rollup", "bad value");
  if (seen < 2) return error("smaps_rollup", "missing Rss/Pss");
  return r;
}

namespace {

// "0100007F:1F90" (v4) or 32 hex digits + ":PORT" (v6), each 32-bit word printed from
// the raw in-memory u32, i.e. host (little-endian) order.
bool parse_hex_endpoint(std::string_view s, IpAddress::Family family, Endpoint& out) {
  std::size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view addr = s.substr(0, colon);
  std::uint16_t port = 0;
  if (!to_number(s.substr(colon + 1), port, 16)) return false;
  std::size_t words = family == IpAddress::Family::v4 ? 1 : 4;
  if (addr.size() != words * 8) return false;
  out.address = IpAddress{};
  out.address.family = family;
  for (std::size_t w = 0; w < words; ++w) {
    std::uint32_t word = 0;
    if (!to_number(addr.substr(w * 8, 8), word, 16)) return false;
    for (std::size_t b = 0; b < 4; ++b) {
      out.address.bytes[w * 4 + b] = static_cast<std::uint8_t>(word >> (8 * b));
    }
  }
  out.port = port;
  return true;
}

}  // namespace

Result<std::vector<SocketEntry>> parse_net_sockets(std::string_view text,
                                                   IpAddress::Family family) {
  std::vector<SocketEntry> out;
  bool header = true;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (header) {
      header = false;
      if (line.find("local_address") == std::string_view::npos) {
        return error("net/tcp", "missing header line");
      }
      continue;
    }
    auto f = fields(line);
    if (f.empty()) continue;
    if (f.size() < 10) return error("net/tcp", "truncated row");
    SocketEntry e;
    std::size_t qcolon = f[4].find(':');
    if (!parse_hex_endpoint(f[1], family, e.local) || !parse_hex_endpoint(f[2], family, e.remote) ||
        !to_number(f[3], e.state, 16) || qcolon == std::string_view::npos ||
        !to_number(f[4].substr(0, qcolon), e.tx_queue, 16) ||
        !to_number(f[4].substr(qcolon + 1), e.rx_queue, 16) || !to_number(f[9], e.inode)) {
      return error("net/tcp", "bad row");
    }
    out.push_back(e);
  }
  return out;
}

Result<std::vector<std::uint64_t>> parse_net_unix_inodes(std::string_view text) {
  std::vector<std::uint64_t> out;
  bool header = true;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (header) {
      header = false;
      if (line.find("Inode") == std::string_view::npos) {
        return error("net/unix", "missing header line");
      }
      continue;
    }
    auto f = fields(line);
    if (f.empty()) continue;
    std::uint64_t inode = 0;
    if (f.size() < 7 || !to_number(f[6], inode)) return error("net/unix", "bad row");
    out.push_back(inode);
  }
  return out;
}

Result<ProcStat> parse_proc_stat(std::string_view text) {
  ProcStat s;
  bool have_cpu = false;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    auto f = fields(line);
    if (f.empty()) continue;
    if (f[0] == "cpu") {
      if (f.size() < 9) return error("stat", "short cpu line");
      CpuTimes& c = s.cpu;
      if (!to_number(f[1], c.user) || !to_number(f[2], c.nice) || !to_number(f[3], c.system) ||
          !to_number(f[4], c.idle) || !to_number(f[5], c.iowait) || !to_number(f[6], c.irq) ||
          !to_number(f[7], c.softirq) || !to_number(f[8], c.steal)) {
        return error("stat", "bad cpu line");
      }
      have_cpu = true;
    } else if (f[0].size() > 3 && f[0].substr(0, 3) == "cpu") {
      ++s.cpu_count;
    } else if (f[0] == "ctxt" && f.size() > 1) {
      if (!to_number(f[1], s.context_switches)) return error("stat", "bad ctxt");
    } else if (f[0] == "procs_running" && f.size() > 1) {
      if (!to_number(f[1], s.procs_running)) return error("stat", "bad procs_running");
    } else if (f[0] == "procs_blocked" && f.size() > 1) {
      if (!to_number(f[1], s.procs_blocked)) return error("stat", "bad procs_blocked");
    }
  }
  if (!have_cpu) return error("stat", "no cpu line");
  return s;
}

Result<Pressure> parse_pressure(std::string_view text) {
  Pressure p;
  bool have_some = false;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    auto f = fields(line);
    if (f.empty()) continue;
    bool some = f[0] == "some";
    if (!some && f[0] != "full") return error("pressure", "line is neither some nor full");
    double avg10 = 0;
    std::uint64_t total_us = 0;
    bool got_avg = false;
    bool got_total = false;
    for (std::size_t i = 1; i < f.size(); ++i) {
      std::size_t eq = f[i].find('=');
      if (eq == std::string_view::npos) return error("pressure", "expected key=value");
      auto key = f[i].substr(0, eq);
      auto value = f[i].substr(eq + 1);
      if (key == "avg10") got_avg = to_double(value, avg10);
      if (key == "total") got_total = to_number(value, total_us);
    }
    if (!got_avg || !got_total) return error("pressure", "missing avg10 or total");
    if (some) {
      p.some_avg10 = avg10;
      p.some_total_seconds = static_cast<double>(total_us) / 1e6;
      have_some = true;
    } else {
      p.has_full = true;
      p.full_avg10 = avg10;
      p.full_total_seconds = static_cast<double>(total_us) / 1e6;
    }
  }
  if (!have_some) return error("pressure", "no 'some' line");
  return p;
}

Result<LoadAvg> parse_loadavg(std::string_view text) {
  auto f = fields(text);
  LoadAvg l;
  if (f.size() < 4) return error("loadavg", "expected at least 4 fields");
  std::size_t slash = f[3].find('/');
  if (!to_double(f[0], l.load1) || !to_double(f[1], l.load5) || !to_double(f[2], l.load15) ||
      slash == std::string_view::npos || !to_number(f[3].substr(0, slash), l.running) ||
      !to_number(f[3].substr(slash + 1), l.total)) {
    return error("loadavg", "bad field");
  }
  return l;
}

FdTarget parse_fd_link(std::string_view link) {
  FdTarget t;
  auto bracketed = [&](std::string_view prefix) -> bool {
    if (link.size() <= prefix.size() + 2 || link.substr(0, prefix.size()) != prefix ||
        link.back() != ']' || link[prefix.size()] != '[') {
      return false;
    }
    return to_number(link.substr(prefix.size() + 1, link.size() - prefix.size() - 2), t.inode);
  };
  if (bracketed("socket:")) {
    t.kind = FdTarget::Kind::socket;
  } else if (bracketed("pipe:")) {
    t.kind = FdTarget::Kind::pipe;
  } else if (link.substr(0, 11) == "anon_inode:") {
    t.kind = FdTarget::Kind::anon_inode;
    auto name = link.substr(11);
    if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
      name = name.substr(1, name.size() - 2);
    }
    t.name = std::string(name);
  } else if (!link.empty() && link.front() == '/') {
    t.kind = FdTarget::Kind::file;
    t.name = std::string(link);
  }
  return t;
}

std::vector<std::string> parse_cmdline(std::string_view raw) {
  std::vector<std::string> args;
  while (!raw.empty()) {
    std::size_t nul = raw.find('\0');
    args.emplace_back(raw.substr(0, nul));
    if (nul == std::string_view::npos) break;
    raw.remove_prefix(nul + 1);
  }
  return args;
}

namespace {

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return !s.empty();
}

// A pod UID: a UUID (32 hex digits and 4 dashes) or, for a static pod, the kubelet's
// 32-hex-digit hash of its manifest. `dash` is how the path spells '-' ('_' in
// systemd slice names, where '-' separates the slice hierarchy).
std::optional<std::string> pod_uid(std::string_view s, char dash) {
  if (s.size() != 32 && s.size() != 36) return std::nullopt;
  std::string out(s);
  int digits = 0;
  for (char& c : out) {
    if (c == dash) {
      c = '-';
    } else if (is_hex(std::string_view(&c, 1))) {
      ++digits;
    } else {
      return std::nullopt;
    }
  }
  if (digits != 32) return std::nullopt;
  return out;
}

// Container ids are 64 hex digits with every runtime; shorter ones (≥ 12, the short
// form) are accepted for hand-made layouts.
bool container_id(std::string_view s) { return s.size() >= 12 && s.size() <= 64 && is_hex(s); }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The pod slice of the systemd driver: "[<root>-]kubepods[-<qos>]-pod<uid>.slice".
bool systemd_pod(std::string_view c, PodContainer& out) {
  if (!ends_with(c, ".slice")) return false;
  c.remove_suffix(6);
  std::size_t at = c.rfind("-pod");
  if (at == std::string_view::npos) return false;
  auto uid = pod_uid(c.substr(at + 4), '_');
  if (!uid) return false;
  std::string_view parent = c.substr(0, at);
  struct Qos {
    std::string_view slice;
    const char* name;
  };
  for (const Qos& q : {Qos{"kubepods-burstable", "Burstable"},
                       Qos{"kubepods-besteffort", "BestEffort"}, Qos{"kubepods", "Guaranteed"}}) {
    if (!ends_with(parent, q.slice)) continue;
    if (parent.size() != q.slice.size() && parent[parent.size() - q.slice.size() - 1] != '-') {
      continue;
    }
    out.pod_uid = *uid;
    out.qos_class = q.name;
    return true;
  }
  return false;
}

// The container scope of the systemd driver: "<runtime prefix>-<id>.scope". CRI-O's
// "crio-conmon-<id>.scope" holds its monitor process, not the container: no id.
void systemd_container(std::string_view c, PodContainer& out) {
  if (!ends_with(c, ".scope") || starts_with(c, "crio-conmon-")) return;
  c.remove_suffix(6);
  struct Runtime {
    std::string_view prefix;
    const char* name;
  };
  for (const Runtime& r : {Runtime{"cri-containerd-", "containerd"}, Runtime{"crio-", "cri-o"},
                           Runtime{"docker-", "docker"}}) {
    if (starts_with(c, r.prefix) && container_id(c.substr(r.prefix.size()))) {
      out.container_id = std::string(c.substr(r.prefix.size()));
      out.runtime = r.name;
      return;
    }
  }
}

std::optional<PodContainer> pod_from_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    PodContainer out;
    std::string_view next = i + 1 < parts.size() ? parts[i + 1] : std::string_view{};
    if (systemd_pod(parts[i], out)) {
      systemd_container(next, out);
      return out;
    }
    // cgroupfs: "pod<uid>" under kubepods, its QoS directory, or (seen from another
    // cgroup namespace) "..", which hides the QoS.
    if (i == 0 || !starts_with(parts[i], "pod")) continue;
    auto uid = pod_uid(parts[i].substr(3), '-');
    if (!uid) continue;
    std::string_view parent = parts[i - 1];
    if (parent == "burstable") {
      out.qos_class = "Burstable";
    } else if (parent == "besteffort") {
      out.qos_class = "BestEffort";
    } else if (parent == "kubepods") {
      out.qos_class = "Guaranteed";
    } else if (parent != "..") {
      continue;
    }
    out.pod_uid = *uid;
    if (container_id(next)) out.container_id = std::string(next);
    return out;
  }
  return std::nullopt;
}

}  // namespace

std::optional<PodContainer> parse_pod_cgroup(std::string_view text) {
  std::vector<std::string_view> v2;
  std::vector<std::string_view> v1;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    std::size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    std::size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    // The path is everything after the second colon: it may itself hold colons.
    (line.substr(0, first) == "0" ? v2 : v1).push_back(line.substr(second + 1));
  }
  for (const auto* paths : {&v2, &v1}) {
    for (std::string_view path : *paths) {
      if (auto pod = pod_from_path(path)) return pod;
    }
  }
  return std::nullopt;
}

}  // namespace boundwise::procfs
