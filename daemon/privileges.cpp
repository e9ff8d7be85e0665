// Capabilities with libcap; the user switch with PR_SET_KEEPCAPS so that the kept
// capabilities survive setuid().
#include "daemon/privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

namespace boundwise {

namespace {

struct WantedCapability {
  cap_value_t value;
  const char* name;
  const char* buys;
  const char* without;
};

// The capabilities boundwise uses. CAP_SYS_RESOURCE only matters on kernels that
// charge BPF maps to RLIMIT_MEMLOCK (before 5.11); see needs_memlock_capability().
const WantedCapability kWanted[] = {
    {CAP_SYS_PTRACE, "CAP_SYS_PTRACE",
     "reads other users' /proc/PID/{syscall,io,fd} and Python interpreter memory "
     "(process_vm_readv, read-only)",
     "wait reasons, dependencies and GIL state of other users' processes are unknown; "
     "their time is counted but not explained"},
    {CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH",
     "reads executables and /proc entries of other users (ELF symbols for the GIL, smaps)",
     "no GIL location or memory per worker for other users' processes"},
    {CAP_BPF, "CAP_BPF", "loads the eBPF collectors (exact off-CPU time and latencies)",
     "eBPF collectors stay down; procfs sampling estimates instead"},
    {CAP_PERFMON, "CAP_PERFMON", "attaches eBPF programs to tracepoints, perf events",
     "eBPF collectors stay down; procfs sampling estimates instead"},
    {CAP_SYS_RESOURCE, "CAP_SYS_RESOURCE",
     "raises RLIMIT_MEMLOCK for BPF maps (kernels before 5.11 only)",
     "BPF maps may fail to allocate on old kernels"},
};

bool needs_memlock_capability() {
  utsname u{};
  if (::uname(&u) != 0) return true;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return true;
  return major < 5 || (major == 5 && minor < 11);
}

// CapEff from /proc/self/status: a bit mask by capability number.
std::uint64_t effective_capabilities() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool exists(const std::string& path) { return std::ifstream(path).good(); }

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::vector<PrivilegeFact> check_privileges() {
  std::vector<PrivilegeFact> facts;
  std::uint64_t eff = effective_capabilities();
  bool memlock = needs_memlock_capability();
  for (const auto& w : kWanted) {
    if (w.value == CAP_SYS_RESOURCE && !memlock) continue;
    facts.push_back({w.name, ((eff >> w.value) & 1u) != 0, w.buys, w.without});
  }
  facts.push_back({"BTF (/sys/kernel/btf/vmlinux)", exists("/sys/kernel/btf/vmlinux"),
                   "CO-RE eBPF programs run on this kernel without kernel headers",
                   "eBPF collectors stay down"});
  // BPF_ENABLE_STATS needs CAP_SYS_ADMIN, once, at start-up (the agent keeps the fd
  // open after dropping it); the sysctl turns the stats on for the whole host instead.
  facts.push_back({"BPF run-time stats (CAP_SYS_ADMIN at start-up, or kernel.bpf_stats_enabled=1)",
                   ((eff >> CAP_SYS_ADMIN) & 1u) != 0 ||
                       read_first_line("/proc/sys/kernel/bpf_stats_enabled") == "1",
                   "the eBPF programs' own CPU cost is measured and kept within "
                   "ebpf.budget_cores",
                   "the eBPF overhead budget is not enforced and "
                   "boundwise_ebpf_program_seconds_total is absent"});
  facts.push_back({"PSI (/proc/pressure)", exists("/proc/pressure/cpu"),
                   "node CPU/memory/IO pressure as saturation evidence",
                   "saturation is judged from run-queue wait and CPU busy alone"});
  std::string paranoid = read_first_line("/proc/sys/kernel/perf_event_paranoid");
  facts.push_back({"kernel.perf_event_paranoid = " + (paranoid.empty() ? "?" : paranoid),
                   ((eff >> CAP_PERFMON) & 1u) ||
                       (!paranoid.empty() && std::strtol(paranoid.c_str(), nullptr, 10) <= 1),
                   "perf events on other processes",
                   "perf events need CAP_PERFMON at this setting"});
  std::string ptrace = read_first_line("/proc/sys/kernel/yama/ptrace_scope");
  if (!ptrace.empty()) {
    facts.push_back({"kernel.yama.ptrace_scope = " + ptrace,
                     ptrace != "3" && (ptrace == "0" || ((eff >> CAP_SYS_PTRACE) & 1u)),
                     "reading other processes' memory (Python GIL state)",
                     ptrace == "3" ? "no process may read another's memory on this host"
                                   : "needs CAP_SYS_PTRACE at this setting"});
  }
  return facts;
}

std::string format_privileges(const std::vector<PrivilegeFact>& facts) {
  std::ostringstream out;
  out << "boundwise privileges on this host (uid " << ::getuid() << "):\n";
  for (const auto& f : facts) {
    out << "  " << (f.available ? "[yes] " : "[no]  ") << f.name << "\n";
    out << "        " << (f.available ? f.buys : "without it: " + f.without) << "\n";
  }
  return out.str();
}

Status drop_privileges(const std::string& user) {
  std::unique_ptr<_cap_struct, decltype(&cap_free)> current(cap_get_proc(), &cap_free);
  if (!current) return Error{"cap_get_proc: " + errno_text()};
  bool memlock = needs_memlock_capability();
  std::vector<cap_value_t> keep;
  for (const auto& w : kWanted) {
    if (w.value == CAP_SYS_RESOURCE && !memlock) continue;
    cap_flag_value_t permitted = CAP_CLEAR;
    if (cap_get_flag(current.get(), w.value, CAP_PERMITTED, &permitted) == 0 &&
        permitted == CAP_SET) {
      keep.push_back(w.value);
    }
  }

  // The bounding set first, while still root (it needs CAP_SETPCAP), so that nothing
  // exec'd later could regain a capability.
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
    if (std::find(keep.begin(), keep.end(), c) != keep.end()) continue;
    if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) != 0 && errno != EINVAL && errno != EPERM) {
      return Error{"dropping capability " + std::to_string(c) +
                   " from the bounding set: " + errno_text()};
    }
  }
  if (!user.empty()) {
    if (::geteuid() != 0) {
      return Error{"run_as_user " + user + ": only root can switch users (running as uid " +
                   std::to_string(::geteuid()) + ")"};
    }
    errno = 0;
    passwd* pw = ::getpwnam(user.c_str());
    if (pw == nullptr) {
      return Error{"run_as_user " + user + ": no such user" +
                   (errno != 0 ? " (" + errno_text() + ")" : "")};
    }
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return Error{"PR_SET_KEEPCAPS: " + errno_text()};
    if (::setgroups(0, nullptr) != 0) return Error{"setgroups: " + errno_text()};
    if (::setresgid(gid, gid, gid) != 0)
      return Error{"setgid " + std::to_string(gid) + ": " + errno_text()};
    if (::setresuid(uid, uid, uid) != 0)
      return Error{"setuid " + std::to_string(uid) + ": " + errno_text()};
    ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
  }

  std::unique_ptr<_cap_struct, decltype(&cap_free)> next(cap_init(), &cap_free);
  if (!keep.empty()) {
    if (cap_set_flag(next.get(), CAP_PERMITTED, static_cast<int>(keep.size()), keep.data(),
                     CAP_SET) != 0 ||
        cap_set_flag(next.get(), CAP_EFFECTIVE, static_cast<int>(keep.size()), keep.data(),
                     CAP_SET) != 0) {
      return Error{"cap_set_flag: " + errno_text()};
    }
  }
  if (cap_set_proc(next.get()) != 0) return Error{"cap_set_proc: " + errno_text()};
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  return Ok{};
}

}  // namespace boundwise
