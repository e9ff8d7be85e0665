// The agent's own process as the standard Prometheus process metrics describe it
// (process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds,
// process_max_fds, process_start_time_seconds: the names every client library's
// process collector uses, so dashboards written for any exporter work). prometheus-cpp's
// core has no such collector; this reads /proc/self under a proc root that tests may
// point elsewhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "classifier/result.hpp"

namespace boundwise {

// Seconds and bytes, as the metrics publish them.
struct SelfProcess {
  double cpu_seconds = 0;         // user + system
  double resident_bytes = 0;      // resident set size
  double open_fds = 0;            // open file descriptors (the one used to count them excluded)
  std::optional<double> max_fds;  // soft RLIMIT_NOFILE; nullopt when unlimited
  double start_time_seconds = 0;  // Unix time the process started
};

// The boot time (Unix seconds) from /proc/stat's `btime` line; nullopt without one.
std::optional<double> parse_btime(std::string_view proc_stat);

// The soft limit of "Max open files" in /proc/PID/limits: a number, nullopt for
// "unlimited", an error when the line is missing or unreadable.
Result<std::optional<double>> parse_max_open_files(std::string_view limits);

// Reads PROC_ROOT/self/{stat,limits,fd} and PROC_ROOT/stat. An error names the file.
Result<SelfProcess> read_self_process(const std::string& proc_root = "/proc");

}  // namespace boundwise
