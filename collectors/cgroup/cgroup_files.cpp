#include "collectors/cgroup/cgroup_files.hpp"

#include <charconv>
#include <cmath>

namespace boundwise::cgroup {

namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find(sep, start);
    out.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

template <class T>
std::optional<T> number(std::string_view s) {
  T v{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

bool has_controller(std::string_view list, std::string_view controller) {
  for (auto c : split(list, ',')) {
    if (c == controller) return true;
  }
  return false;
}

// mountinfo escapes blanks in paths as \040 (and \011, \012, \134).
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      auto code = s.substr(i + 1, 3);
      if (code.find_first_not_of("01234567") == std::string_view::npos) {
        out.push_back(
            static_cast<char>((code[0] - '0') * 64 + (code[1] - '0') * 8 + (code[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::optional<double> cores(double quota, double period) {
  if (!(quota > 0) || !(period > 0) || !std::isfinite(quota / period)) return std::nullopt;
  return quota / period;
}

}  // namespace

std::optional<CpuCgroup> parse_proc_cgroup(std::string_view text, std::string_view controller) {
  std::optional<CpuCgroup> v2;
  for (auto line : split(text, '\n')) {
    // "ID:CONTROLLERS:PATH"; the path may itself contain ':'.
    auto first = line.find(':');
    if (first == std::string_view::npos) continue;
    auto second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    auto controllers = line.substr(first + 1, second - first - 1);
    std::string path(line.substr(second + 1));
    if (path.empty() || path.front() != '/') continue;
    if (line.substr(0, first) == "0" && controllers.empty()) {
      v2 = CpuCgroup{path, true};
    } else if (has_controller(controllers, controller)) {
      return CpuCgroup{path, false};
    }
  }
  return v2;
}

std::vector<CpuMount> parse_cpu_mounts(std::string_view mountinfo, std::string_view controller) {
  std::vector<CpuMount> out;
  for (auto line : split(mountinfo, '\n')) {
    // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
    auto dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    auto left = split(line.substr(0, dash), ' ');
    auto right = split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    const auto fstype = right[0];
    if (fstype == "cgroup2") {
      out.push_back({unescape(left[4]), unescape(left[3]), true});
    } else if (fstype == "cgroup" && has_controller(right[2], controller)) {
      out.push_back({unescape(left[4]), unescape(left[3]), false});
    }
  }
  return out;
}

std::optional<std::string> cgroup_dir(const std::vector<CpuMount>& mounts,
                                      const CpuCgroup& cgroup) {
  for (const auto& m : mounts) {
    if (m.v2 != cgroup.v2) continue;
    // The mount shows the hierarchy from m.root down: the path must be under it.
    std::string_view path = cgroup.path;
    std::string_view root = m.root == "/" ? std::string_view{} : std::string_view(m.root);
    if (!root.empty()) {
      if (path.substr(0, root.size()) != root ||
          (path.size() > root.size() && path[root.size()] != '/')) {
        continue;
      }
      path.remove_prefix(root.size());
    }
    if (path == "/") path = {};
    if (path.find("/..") != std::string_view::npos) return std::nullopt;
    return m.mount_point + std::string(path);
  }
  return std::nullopt;
}

std::optional<double> parse_cpu_max(std::string_view text) {
  auto parts = split(trim(text), ' ');
  if (parts.size() != 2 || parts[0] == "max") return std::nullopt;
  auto quota = number<std::uint64_t>(parts[0]);
  auto period = number<std::uint64_t>(parts[1]);
  if (!quota || !period) return std::nullopt;
  return cores(static_cast<double>(*quota), static_cast<double>(*period));
}

std::optional<double> parse_cfs_quota(std::string_view quota_us, std::string_view period_us) {
  auto quota = number<std::int64_t>(trim(quota_us));
  auto period = number<std::int64_t>(trim(period_us));
  if (!quota || !period || *quota < 0) return std::nullopt;  // -1: no limit
  return cores(static_cast<double>(*quota), static_cast<double>(*period));
}

std::optional<std::uint64_t> parse_memory_limit(std::string_view text) {
  constexpr std::uint64_t kUnlimitedFrom = std::uint64_t{1} << 62;
  auto bytes = number<std::uint64_t>(trim(text));
  if (!bytes || *bytes >= kUnlimitedFrom) return std::nullopt;  // "max", garbage, v1's none
  return bytes;
}

std::optional<CpuStat> parse_cpu_stat(std::string_view text) {
  CpuStat s;
  bool periods = false;
  bool throttled = false;
  for (auto line : split(text, '\n')) {
    auto space = line.find(' ');
    if (space == std::string_view::npos) continue;
    auto key = line.substr(0, space);
    auto value = number<std::uint64_t>(trim(line.substr(space + 1)));
    if (!value) continue;
    if (key == "nr_periods") {
      s.periods = *value;
      periods = true;
    } else if (key == "nr_throttled") {
      s.throttled_periods = *value;
      throttled = true;
    } else if (key == "throttled_time") {  // v1, ns
      s.throttled_ns = *value;
    } else if (key == "throttled_usec") {  // v2
      s.throttled_ns = *value * 1000;
    }
  }
  if (!periods || !throttled) return std::nullopt;
  return s;
}

}  // namespace boundwise::cgroup
