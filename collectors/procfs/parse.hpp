// Pure parsers for the procfs files boundwise reads: text in, struct or Error out.
// No I/O here, so every parser is unit-tested on real kernel text and fuzzed
// (tests/fuzz/). Units are converted at parse time where the file states them
// (kB → bytes, µs → s); clock ticks stay ticks (the caller knows CLK_TCK).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "classifier/endpoint.hpp"
#include "classifier/result.hpp"
#include "collectors/targets.hpp"

namespace boundwise::procfs {

// /proc/PID/stat and /proc/PID/task/TID/stat. comm may hold spaces and ')': the
// fields after it are found from the last ')'.
struct TaskStat {
  int pid = 0;
  std::string comm;
  char state = '?';  // R S D T t Z X I P
  int ppid = 0;
  std::uint32_t flags = 0;  // field 9: PF_* (include/linux/sched.h)
  std::uint64_t minor_faults = 0;
  std::uint64_t major_faults = 0;
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  int num_threads = 0;
  std::uint64_t start_time_ticks = 0;  // field 22
  std::uint64_t rss_pages = 0;         // field 24
  int processor = -1;                  // field 39
};
Result<TaskStat> parse_stat(std::string_view text);

// /proc/PID/task/TID/schedstat: "run_ns wait_ns timeslices".
struct SchedStat {
  std::uint64_t run_ns = 0;
  std::uint64_t wait_ns = 0;
  std::uint64_t timeslices = 0;
};
Result<SchedStat> parse_schedstat(std::string_view text);

// /proc/PID/task/TID/syscall: "running", "-1 sp pc" (blocked, not in a syscall), or
// "nr a0 a1 a2 a3 a4 a5 sp pc" (all hex except nr).
struct SyscallState {
  bool running = false;
  long number = -1;  // -1 when running or not in a syscall
  std::array<std::uint64_t, 6> args{};
  std::uint64_t stack_pointer = 0;
  std::uint64_t program_counter = 0;
};
Result<SyscallState> parse_syscall(std::string_view text);

// /proc/PID/status and /proc/PID/task/TID/status (fields boundwise uses).
struct TaskStatus {
  std::string name;
  int tgid = 0;
  int ppid = 0;
  int threads = 0;
  std::uint64_t vm_rss_bytes = 0;
  std::uint64_t voluntary_ctxt_switches = 0;
  std::uint64_t nonvoluntary_ctxt_switches = 0;
};
Result<TaskStatus> parse_status(std::string_view text);

// /proc/PID/io.
struct IoCounters {
  std::uint64_t rchar = 0;
  std::uint64_t wchar = 0;
  std::uint64_t syscr = 0;
  std::uint64_t syscw = 0;
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
  std::uint64_t cancelled_write_bytes = 0;
};
Result<IoCounters> parse_io(std::string_view text);

// /proc/PID/smaps_rollup, in bytes.
struct SmapsRollup {
  std::uint64_t rss = 0;
  std::uint64_t pss = 0;
  std::uint64_t shared_clean = 0;
  std::uint64_t shared_dirty = 0;
  std::uint64_t private_clean = 0;
  std::uint64_t private_dirty = 0;
  std::uint64_t swap = 0;
};
Result<SmapsRollup> parse_smaps_rollup(std::string_view text);

// One row of /proc/PID/net/{tcp,tcp6,udp,udp6}.
struct SocketEntry {
  Endpoint local;
  Endpoint remote;
  int state = 0;  // TCP_ESTABLISHED = 1, TCP_LISTEN = 10, ... (include/net/tcp_states.h)
  std::uint64_t tx_queue = 0;
  std::uint64_t rx_queue = 0;
  std::uint64_t inode = 0;
};
inline constexpr int kTcpEstablished = 1;
inline constexpr int kTcpListen = 10;
// The header line is skipped. Addresses are the kernel's hex words in host byte order
// (little-endian here); they come out as ordinary network-order IpAddress values.
Result<std::vector<SocketEntry>> parse_net_sockets(std::string_view text, IpAddress::Family family);

// /proc/net/unix: the inode column of every row.
Result<std::vector<std::uint64_t>> parse_net_unix_inodes(std::string_view text);

// The aggregate "cpu" line and a few counters of /proc/stat.
struct CpuTimes {
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                steal = 0;
  std::uint64_t busy() const { return user + nice + system + irq + softirq + steal; }
  std::uint64_t total() const { return busy() + idle + iowait; }
};
struct ProcStat {
  CpuTimes cpu;
  int cpu_count = 0;  // number of "cpuN" lines
  std::uint64_t context_switches = 0;
  int procs_running = 0;
  int procs_blocked = 0;
};
Result<ProcStat> parse_proc_stat(std::string_view text);

// /proc/pressure/{cpu,io,memory}. Totals converted from µs to seconds.
struct Pressure {
  double some_avg10 = 0;
  double some_total_seconds = 0;
  bool has_full = false;
  double full_avg10 = 0;
  double full_total_seconds = 0;
};
Result<Pressure> parse_pressure(std::string_view text);

// /proc/loadavg: "0.52 0.58 0.59 2/419 12345".
struct LoadAvg {
  double load1 = 0, load5 = 0, load15 = 0;
  int running = 0;
  int total = 0;
};
Result<LoadAvg> parse_loadavg(std::string_view text);

// The target of a /proc/PID/fd/N symlink.
struct FdTarget {
  enum class Kind { socket, pipe, file, anon_inode, other };
  Kind kind = Kind::other;
  std::uint64_t inode = 0;  // socket:[N] and pipe:[N]
  std::string name;         // the path for files, "eventpoll" etc. for anon inodes
};
FdTarget parse_fd_link(std::string_view link_text);

// /proc/PID/cmdline: NUL-separated arguments (a trailing NUL is optional).
std::vector<std::string> parse_cmdline(std::string_view raw);

// /proc/PID/cgroup ("ID:controllers:path" lines): the Kubernetes pod and container
// of the process, from the kubelet's cgroup layouts —
//   systemd driver: .../kubepods[-burstable|-besteffort]-pod<UID, '-' as '_'>.slice/
//                   {cri-containerd,crio,docker}-<ID>.scope
//   cgroupfs driver: .../kubepods[/burstable|/besteffort]/pod<UID>/<ID>
// found anywhere in the path, so a cgroup root prefix (kind's "kubelet-kubepods…")
// and the "/../.." of a path seen from another cgroup namespace (the agent's own pod)
// still match. The cgroup v2 line ("0::") is tried first, then v1 lines in order.
// nullopt: not in a pod (a systemd service, a plain Docker container, garbage).
std::optional<PodContainer> parse_pod_cgroup(std::string_view text);

}  // namespace boundwise::procfs
