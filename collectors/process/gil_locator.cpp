// Locating CPython's GIL from the interpreter's ELF file and the process's maps, with
// no read of the target's memory. Offsets and symbol facts: docs/PYTHON_INTERNALS.md.
// Which object to read and how to open it are here; parsing its bytes is
// elf_facts.cpp's.
#include "collectors/process/gil_locator.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <utility>
#include <vector>

#include "collectors/process/elf_facts.hpp"

namespace boundwise::process {

namespace {

constexpr std::uint64_t kGilStructSize = 208;  // _gil_runtime_state, 3.9–3.13

// An interpreter is tens of MB; a mapped "ELF" larger than this is not one we read.
constexpr std::uint64_t kMaxElfBytes = std::uint64_t{1} << 30;

struct Mapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint64_t offset = 0;
  dev_t device = 0;  // of the mapped file, as maps shows it
  ino_t inode = 0;
  std::string path;  // as maps shows it, " (deleted)" included
};

// The opened mapped file, read with pread (only the headers and tables the parser
// asks for, not the whole file).
class File final : public ByteSource {
 public:
  File(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  ~File() override {
    if (fd_ >= 0) ::close(fd_);
  }
  File(File&& o) noexcept : fd_(o.fd_), size_(o.size_) { o.fd_ = -1; }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  File& operator=(File&&) = delete;
  std::uint64_t size() const override { return size_; }
  // Gives up the descriptor (the caller closes it).
  int release() { return std::exchange(fd_, -1); }
  bool read(std::uint64_t offset, void* out, std::size_t size) const override {
    auto n = ::pread(fd_, out, size, static_cast<off_t>(offset));
    return n == static_cast<ssize_t>(size);
  }

 private:
  int fd_;
  std::uint64_t size_;  // at open (fstat)
};

// Opens the file behind `m` so that nothing the target's owner controls can block or
// substitute it. The path in maps is only a name: the owner may have deleted the file
// and put a FIFO (open() would block for good), a symlink or another file at that
// name, or at "<path> (deleted)". So: the kernel's own references to the mapped file
// come first (map_files/START-END, which needs CAP_SYS_ADMIN, then exe for the
// executable), the name inside the process's root last; every open is non-blocking and
// does not follow a final symlink, and the result must be a regular file with the
// device and inode maps gives for the mapping.
Result<File> open_mapped(const std::string& base, const Mapping& m, bool is_executable) {
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
    File file(fd, 0);
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
      return File(file.release(), static_cast<std::uint64_t>(st.st_size));
    }
  }
  return Error{"cannot open the file mapped as " + m.path + why};
}

// Hex or decimal text to a number; nullopt on anything else (a fixture or a
// corrupted file must not throw out of the collector).
std::optional<std::uint64_t> to_number(std::string_view text, int base) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
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
    m.path = file;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

std::optional<std::uint64_t> gil_offset_from_runtime(int major, int minor) {
  if (major != 3) return std::nullopt;
  switch (minor) {
    case 8:
      return 1152;  // measured on pyenv 3.8.18 (futex waiters at +72, interval 5000)
    case 9:
    case 10:
      return 352;
    case 11:
      return 360;
    case 12:
      return 77432;
    case 13:
      return 96104;
    default:
      return std::nullopt;
  }
}

Result<std::optional<GilLocation>> locate_gil(const std::string& proc_root, int pid) {
  const std::string base = proc_root + "/" + std::to_string(pid);
  auto maps = read_maps(base + "/maps");
  if (maps.empty()) {
    if (::access((base + "/maps").c_str(), R_OK) != 0) {
      return Error{"read " + base + "/maps: " + std::strerror(errno)};
    }
    return std::optional<GilLocation>{};
  }
  // The object that holds the interpreter: libpython if mapped, else the executable.
  static const std::regex kLibPython(R"(/libpython3\.(\d+)(t?)[^/]*\.so)");
  const Mapping* object = nullptr;
  for (const auto& m : maps) {
    if (m.offset == 0 && std::regex_search(m.path, kLibPython)) {
      object = &m;
      break;
    }
  }
  char exe[4096];
  ssize_t n = ::readlink((base + "/exe").c_str(), exe, sizeof exe - 1);
  std::string exe_path = n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : std::string();
  if (object == nullptr) {
    if (exe_path.empty()) return Error{"readlink " + base + "/exe: " + std::strerror(errno)};
    for (const auto& m : maps) {
      if (m.offset == 0 && m.path == exe_path) {
        object = &m;
        break;
      }
    }
    if (object == nullptr) return std::optional<GilLocation>{};
  }
  auto file = open_mapped(base, *object, object->path == exe_path);
  if (!file) return Error{file.error().message};
  auto facts = read_elf_facts(*file, object->path);
  if (!facts) return Error{facts.error().message};
  if (!facts->py_runtime) return std::optional<GilLocation>{};

  int major = 0, minor = -1;
  GilLocation location;
  static const std::regex kName(R"(python3\.(\d+)(t?))");
  std::smatch match;
  bool name_free_threaded = false;
  if (std::regex_search(object->path, match, kName)) {
    if (auto m = to_number(match[1].str(), 10); m && *m < 1000) {
      major = 3;
      minor = static_cast<int>(*m);
    }
    name_free_threaded = match[2].length() > 0;
  }
  if (facts->py_version) {
    std::uint32_t v = *facts->py_version;
    major = static_cast<int>(v >> 24);
    minor = static_cast<int>((v >> 16) & 0xff);
    int micro = static_cast<int>((v >> 8) & 0xff);
    location.version =
        std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro);
  } else if (minor >= 0) {
    location.version = "3." + std::to_string(minor);
  }
  location.free_threaded = name_free_threaded;
  location.major = major;
  location.minor = minor;
  if (!facts->exec && object->start < facts->first_load_vaddr) {
    return Error{base + "/maps: " + object->path + " mapped below its first PT_LOAD vaddr"};
  }
  std::uint64_t bias = facts->exec ? 0 : object->start - facts->first_load_vaddr;
  location.runtime_address = *facts->py_runtime + bias;
  location.object_path = object->path;
  // A free-threaded build has no GIL at these offsets (and usually none at all), and
  // an unmeasured version has no known offset: an empty range says "CPython, this
  // version" while matching no futex address.
  if (location.free_threaded) return std::optional<GilLocation>{location};
  auto offset = gil_offset_from_runtime(major, minor);
  if (!offset) return std::optional<GilLocation>{location};
  location.begin = location.runtime_address + *offset;
  location.end = location.begin + kGilStructSize;
  return std::optional<GilLocation>{location};
}

}  // namespace boundwise::process
