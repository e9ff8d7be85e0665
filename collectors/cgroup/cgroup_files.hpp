// Pure parsers of the cgroup files the cgroup collector reads: a process's cgroup paths
// (/proc/PID/cgroup), where the hierarchies are mounted (/proc/self/mountinfo), the CPU
// quota (v2 cpu.max; v1 cpu.cfs_quota_us + cpu.cfs_period_us) and its enforcement
// (cpu.stat); and the memory limit (v2 memory.max, v1 memory.limit_in_bytes) that
// bounds the procfs collector's kept-open files (memory_limit.hpp). Both cgroup versions exist in
// production: v1 on older distributions (and this project's CI machines), v2 on current ones and
// most Kubernetes nodes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boundwise::cgroup {

// A process's path in the hierarchy that holds `controller` ("cpu", "memory"): the v1
// line whose controllers include it, else the v2 line ("0::/path"). nullopt: neither.
struct CpuCgroup {
  std::string path;  // "/kubepods/burstable/pod…/…", relative to the hierarchy's root
  bool v2 = false;
};
std::optional<CpuCgroup> parse_proc_cgroup(std::string_view text,
                                           std::string_view controller = "cpu");

// A mounted cgroup hierarchy holding `controller` (v1 "cgroup" with it among the super
// options, or "cgroup2"), from mountinfo.
struct CpuMount {
  std::string mount_point;  // "/sys/fs/cgroup/cpu,cpuacct"
  std::string root;         // the hierarchy path seen at the mount point ("/" on a host)
  bool v2 = false;
};
std::vector<CpuMount> parse_cpu_mounts(std::string_view mountinfo,
                                       std::string_view controller = "cpu");

// The directory of `cgroup` under a matching mount, nullopt when no mount shows it (a
// path outside the agent's cgroup namespace view).
std::optional<std::string> cgroup_dir(const std::vector<CpuMount>& mounts, const CpuCgroup& cgroup);

// The quota as cores: v2 cpu.max ("max 100000" = none, "50000 100000" = 0.5), v1
// quota and period files (quota -1 = none). nullopt: no limit, or unreadable text.
std::optional<double> parse_cpu_max(std::string_view text);
std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us);

// A memory limit in bytes: v2 memory.max ("max" = none) or v1 memory.limit_in_bytes
// (no limit reads as PAGE_COUNTER_MAX pages, 9223372036854771712 on x86-64: anything
// from 2^62 up is none). nullopt: no limit, or unreadable text.
std::optional<std::uint64_t> parse_memory_limit(std::string_view text);

// cpu.stat's enforcement counters (v1: throttled_time in ns; v2: throttled_usec).
// nullopt when nr_periods or nr_throttled is missing.
struct CpuStat {
  std::uint64_t periods = 0;
  std::uint64_t throttled_periods = 0;
  std::uint64_t throttled_ns = 0;
};
std::optional<CpuStat> parse_cpu_stat(std::string_view text);

}  // namespace boundwise::cgroup
