// Reading /proc/self for the process_* metrics. Clock ticks and pages are converted
// with sysconf(_SC_CLK_TCK) and sysconf(_SC_PAGESIZE), as proc(5) says for the
// stat fields utime, stime, starttime (ticks since boot) and rss (pages).
#include "daemon/self_process.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "collectors/procfs/parse.hpp"

namespace boundwise {

namespace {

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"read " + path + ": " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Entries of an fd directory, less the fd of the listing itself.
Result<double> count_fds(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return Error{"open " + path + ": " + std::strerror(errno)};
  const int own = ::dirfd(dir);
  double n = 0;
  while (const dirent* e = ::readdir(dir)) {
    int fd = -1;
    const char* end = e->d_name + std::strlen(e->d_name);
    if (std::from_chars(e->d_name, end, fd).ptr != end) continue;  // . and ..
    if (fd != own) ++n;
  }
  ::closedir(dir);
  return n;
}

}  // namespace

std::optional<double> parse_btime(std::string_view proc_stat) {
  std::size_t pos = 0;
  while (pos < proc_stat.size()) {
    std::size_t end = proc_stat.find('\n', pos);
    if (end == std::string_view::npos) end = proc_stat.size();
    std::string_view line = proc_stat.substr(pos, end - pos);
    if (line.substr(0, 6) == "btime ") {
      std::string_view digits = trim(line.substr(6));
      std::uint64_t n = 0;
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (ec != std::errc() || digits.empty() || p != digits.data() + digits.size()) {
        return std::nullopt;
      }
      return static_cast<double>(n);
    }
    pos = end + 1;
  }
  return std::nullopt;
}

Result<std::optional<double>> parse_max_open_files(std::string_view limits) {
  // "Max open files            1024                 1048576              files"
  constexpr std::string_view kKey = "Max open files";
  std::size_t at = limits.find(kKey);
  if (at == std::string_view::npos) return Error{"no 'Max open files' line"};
  std::string_view rest = trim(limits.substr(at + kKey.size()));
  std::string_view soft = rest.substr(0, rest.find_first_of(" \t\n"));
  if (soft == "unlimited") return std::optional<double>{};
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(soft.data(), soft.data() + soft.size(), n);
  if (ec != std::errc() || p != soft.data() + soft.size() || soft.empty()) {
    return Error{"'Max open files' soft limit is not a number: '" + std::string(soft) + "'"};
  }
  return std::optional<double>{static_cast<double>(n)};
}

Result<SelfProcess> read_self_process(const std::string& proc_root) {
  const std::string self = proc_root + "/self";
  auto stat_text = read_text(self + "/stat");
  if (!stat_text) return stat_text.error();
  auto stat = procfs::parse_stat(*stat_text);
  if (!stat) return Error{self + "/stat: " + stat.error().message};
  auto node_text = read_text(proc_root + "/stat");
  if (!node_text) return node_text.error();
  auto btime = parse_btime(*node_text);
  if (!btime) return Error{proc_root + "/stat: no btime line"};
  auto limits_text = read_text(self + "/limits");
  if (!limits_text) return limits_text.error();
  auto max_fds = parse_max_open_files(*limits_text);
  if (!max_fds) return Error{self + "/limits: " + max_fds.error().message};
  auto fds = count_fds(self + "/fd");
  if (!fds) return fds.error();

  const auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const auto page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  SelfProcess p;
  p.cpu_seconds = static_cast<double>(stat->utime_ticks + stat->stime_ticks) / ticks;
  p.resident_bytes = static_cast<double>(stat->rss_pages) * page;
  p.open_fds = *fds;
  p.max_fds = *max_fds;
  p.start_time_seconds = *btime + static_cast<double>(stat->start_time_ticks) / ticks;
  return p;
}

}  // namespace boundwise
