// Opening a target's mapped files safely (why each check exists: mapped_file.hpp).
#include "collectors/process/mapped_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

namespace boundwise::process {

std::optional<std::uint64_t> to_number(std::string_view text, int base) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

MappedFile::~MappedFile() {
  if (fd_ >= 0) ::close(fd_);
}

bool MappedFile::read(std::uint64_t offset, void* out, std::size_t n) const {
  auto got = ::pread(fd_, out, n, static_cast<off_t>(offset));
  return got == static_cast<ssize_t>(n);
}

std::vector<Mapping> read_maps(const std::string& path) {
  std::vector<Mapping> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    // start-end perms offset dev inode path
    std::istringstream s(line);
    std::string range, perms, offset, dev, inode, file;
    if (!(s >> range >> perms >> offset >> dev >> inode)) continue;
    std::getline(s >> std::ws, file);
    if (file.empty() || file[0] != '/') continue;
    auto dash = range.find('-');
    auto colon = dev.find(':');
    if (dash == std::string::npos || colon == std::string::npos) continue;
    auto start = to_number(std::string_view(range).substr(0, dash), 16);
    auto end = to_number(std::string_view(range).substr(dash + 1), 16);
    auto off = to_number(offset, 16);
    auto major = to_number(std::string_view(dev).substr(0, colon), 16);
    auto minor = to_number(std::string_view(dev).substr(colon + 1), 16);
    auto ino = to_number(inode, 10);
    if (!start || !end || !off || !major || !minor || !ino || *major > 0xfff || *minor > 0xfffff) {
      continue;
    }
    Mapping m;
    m.start = *start;
    m.end = *end;
    m.offset = *off;
    m.device = makedev(static_cast<unsigned>(*major), static_cast<unsigned>(*minor));
    m.inode = static_cast<ino_t>(*ino);
    m.executable = perms.size() >= 3 && perms[2] == 'x';
    m.path = file;
    out.push_back(std::move(m));
  }
  return out;
}

Result<MappedFile> open_mapped(const std::string& base, const Mapping& m, bool is_executable) {
  char range[64];
  std::snprintf(range, sizeof range, "%lx-%lx", static_cast<unsigned long>(m.start),
                static_cast<unsigned long>(m.end));
  struct Candidate {
    std::string path;
    int extra_flags;
  };
  std::vector<Candidate> candidates{{base + "/map_files/" + range, 0}};
  if (is_executable) candidates.push_back({base + "/exe", 0});
  // map_files and exe are links the kernel resolves to the mapped file itself;
  // O_NOFOLLOW would refuse them (ELOOP), so it guards only the name in the root.
  candidates.push_back({base + "/root" + m.path, O_NOFOLLOW});
  std::string why;
  for (const auto& c : candidates) {
    int fd = ::open(c.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | c.extra_flags);
    if (fd < 0) {
      why += "; open " + c.path + ": " + std::strerror(errno);
      continue;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      why += "; fstat " + c.path + ": " + std::strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
      why += "; " + c.path + ": not a regular file";
    } else if (st.st_dev != m.device || st.st_ino != m.inode) {
      why += "; " + c.path + ": not the mapped file (device or inode differs from maps)";
    } else if (static_cast<std::uint64_t>(st.st_size) > kMaxElfBytes) {
      why += "; " + c.path + ": larger than " + std::to_string(kMaxElfBytes >> 20) + " MiB";
    } else {
      return MappedFile(fd, static_cast<std::uint64_t>(st.st_size));
    }
    ::close(fd);
  }
  return Error{"cannot open the file mapped as " + m.path + why};
}

}  // namespace boundwise::process
