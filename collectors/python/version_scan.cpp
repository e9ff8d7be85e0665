// Version strings from memory. Why memory and not the file: PY_VERSION is only a
// literal in the format string's argument, and the linker tail-merges it into longer
// strings (pyenv's 3.8 build keeps it only as the tail of its install prefix).
#include "collectors/python/version_scan.hpp"

#include <cctype>
#include <charconv>
#include <sstream>
#include <vector>

namespace boundwise::python {

namespace {

constexpr std::size_t kMaxScan = 8u << 20;
constexpr std::size_t kChunk = 256u << 10;

}  // namespace

std::optional<std::string> find_version_string(std::string_view bytes, int minor) {
  const std::string prefix = "3." + std::to_string(minor) + ".";
  for (std::size_t at = bytes.find(prefix); at != std::string_view::npos;
       at = bytes.find(prefix, at + 1)) {
    if (at > 0 && bytes[at - 1] != '\0') continue;
    std::size_t i = at + prefix.size();
    std::size_t digits = i;
    while (i < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[i]))) ++i;
    if (i == digits) continue;
    std::size_t end_micro = i;
    while (i < bytes.size() && i - end_micro < 8 &&
           (std::isalnum(static_cast<unsigned char>(bytes[i])) || bytes[i] == '+')) {
      ++i;
    }
    if (i + 1 < bytes.size() && bytes[i] == ' ' && bytes[i + 1] == '(') {
      return std::string(bytes.substr(at, end_micro - at));
    }
  }
  return std::nullopt;
}

std::optional<std::string> scan_version(RemoteMemory& memory, const std::string& maps_text,
                                        const std::string& object_path, int minor) {
  struct Range {
    std::uint64_t start, end;
  };
  std::vector<Range> ranges;
  std::istringstream in(maps_text);
  std::string line;
  bool after_object_rw = false;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    std::string range, perms, offset, dev, inode, path;
    if (!(s >> range >> perms >> offset >> dev >> inode)) continue;
    std::getline(s >> std::ws, path);
    auto dash = range.find('-');
    if (dash == std::string::npos) continue;
    std::uint64_t start = 0, end = 0;
    auto r1 = std::from_chars(range.data(), range.data() + dash, start, 16);
    auto r2 = std::from_chars(range.data() + dash + 1, range.data() + range.size(), end, 16);
    if (r1.ec != std::errc{} || r2.ec != std::errc{} || end <= start) continue;
    bool rw = perms.size() >= 2 && perms[0] == 'r' && perms[1] == 'w';
    if (rw && path == object_path) {
      ranges.push_back({start, end});
      after_object_rw = true;
    } else if (after_object_rw && rw && path.empty()) {
      ranges.push_back({start, end});  // .bss continues the data segment
      after_object_rw = false;
    } else {
      after_object_rw = false;
    }
  }
  std::size_t budget = kMaxScan;
  std::string buf;
  for (const auto& r : ranges) {
    for (std::uint64_t at = r.start; at < r.end && budget > 0;) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(r.end - at, kChunk));
      n = std::min(n, budget);
      buf.resize(n);
      ReadError error;
      if (!memory.read(at, buf.data(), n, error)) {
        if (error.failure == ReadFailure::gone || error.failure == ReadFailure::denied) {
          return std::nullopt;
        }
        break;
      }
      if (auto v = find_version_string(buf, minor)) return v;
      budget -= n;
      // Overlap chunks by 64 bytes so a string across a boundary is still found.
      at += n > 64 && at + n < r.end ? n - 64 : n;
    }
  }
  return std::nullopt;
}

}  // namespace boundwise::python
