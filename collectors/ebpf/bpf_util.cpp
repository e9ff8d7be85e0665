#include "collectors/ebpf/bpf_util.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <vector>

namespace boundwise::ebpf {

namespace {

std::mutex log_mutex;
std::deque<std::string> last_lines;

int print_libbpf(enum libbpf_print_level level, const char* format, va_list args) {
  // A verifier log arrives as one multi-line message of up to tens of KB.
  static thread_local std::vector<char> buf(1 << 16);
  int n = std::vsnprintf(buf.data(), buf.size(), format, args);
  if (n <= 0) return n;
  std::string line(buf.data());
  while (!line.empty() && line.back() == '\n') line.pop_back();
  auto log = spdlog::get("ebpf") ? spdlog::get("ebpf") : spdlog::default_logger();
  log->debug("libbpf: {}", line);
  if (level == LIBBPF_WARN) {
    // Of a verifier log, the last line but one says what it rejected.
    if (auto end = line.rfind("-- END PROG LOAD LOG --"); end != std::string::npos) {
      auto body = line.substr(0, end);
      while (!body.empty() && body.back() == '\n') body.pop_back();
      auto cut = body.rfind('\n', body.rfind('\n') == std::string::npos ? 0 : body.rfind('\n') - 1);
      line = "verifier: " + body.substr(cut == std::string::npos ? 0 : cut + 1);
      for (auto& c : line) c = c == '\n' ? ' ' : c;
    }
    std::lock_guard lock(log_mutex);
    last_lines.push_back(std::move(line));
    if (last_lines.size() > 6) last_lines.pop_front();
  }
  return n;
}

}  // namespace

void route_libbpf_log() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(print_libbpf); });
}

std::string last_libbpf_lines() {
  std::lock_guard lock(log_mutex);
  std::string out;
  for (const auto& l : last_lines) out += (out.empty() ? "" : " | ") + l;
  return out;
}

std::string describe_failure(std::string_view what, int err) {
  if (err < 0) err = -err;
  std::string out = std::string(what) + ": " + std::strerror(err);
  // EACCES from a program load is the verifier's "rejected"; EPERM is privileges.
  auto lines = last_libbpf_lines();
  if (err == EPERM || (err == EACCES && lines.find("verifier:") == std::string::npos)) {
    out +=
        " (hint: run as root, or grant CAP_BPF and CAP_PERFMON; a kernel with "
        "kernel.unprivileged_bpf_disabled or lockdown may refuse even those)";
  } else {
    if (!lines.empty()) out += " (libbpf: " + lines + ")";
  }
  return out;
}

std::vector<std::pair<std::string, int>> program_fds(const bpf_object* obj) {
  std::vector<std::pair<std::string, int>> out;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, obj) {
    // A program not loaded (autoload off, e.g. the net tool's unused variant) has no fd.
    if (int fd = bpf_program__fd(prog); fd >= 0) out.emplace_back(bpf_program__name(prog), fd);
  }
  return out;
}

std::uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

ProgramRunStats program_run_stats(int prog_fd) {
  bpf_prog_info info{};
  __u32 len = sizeof info;
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) return {};
  return {info.run_time_ns, info.run_cnt};
}

}  // namespace boundwise::ebpf
