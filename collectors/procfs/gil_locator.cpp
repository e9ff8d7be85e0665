// Locating CPython's GIL from the interpreter's ELF file and the process's maps, with
// no read of the target's memory. Offsets and symbol facts: docs/PYTHON_INTERNALS.md.
#include "collectors/procfs/gil_locator.hpp"

#include <elf.h>
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
#include <vector>

namespace boundwise::procfs {

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

class File {
 public:
  explicit File(int fd) : fd_(fd) {}
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  File(File&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  File& operator=(File&&) = delete;
  bool read(std::uint64_t offset, void* out, std::size_t size) const {
    auto n = ::pread(fd_, out, size, static_cast<off_t>(offset));
    return n == static_cast<ssize_t>(size);
  }

 private:
  int fd_;
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
    File file(fd);
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
      return file;
    }
  }
  return Error{"cannot open the file mapped as " + m.path + why};
}

struct Symbols {
  std::optional<std::uint64_t> py_runtime;
  std::optional<std::uint64_t> py_version_vaddr;
};

// Scans one symbol table section (.dynsym or .symtab) for the two symbols we need.
void scan_symbols(const File& f, const Elf64_Shdr& symtab, const Elf64_Shdr& strtab, Symbols& out) {
  if (symtab.sh_entsize != sizeof(Elf64_Sym) || strtab.sh_size == 0 ||
      strtab.sh_size > (64u << 20) || symtab.sh_size > (256u << 20)) {
    return;
  }
  std::vector<char> strings(strtab.sh_size);
  if (!f.read(strtab.sh_offset, strings.data(), strings.size())) return;
  std::vector<Elf64_Sym> syms(symtab.sh_size / sizeof(Elf64_Sym));
  if (!f.read(symtab.sh_offset, syms.data(), syms.size() * sizeof(Elf64_Sym))) return;
  for (const auto& s : syms) {
    if (s.st_name >= strings.size() || s.st_value == 0) continue;
    const char* name = strings.data() + s.st_name;
    std::size_t max = strings.size() - s.st_name;
    if (strnlen(name, max) == max) continue;
    if (!out.py_runtime && std::strcmp(name, "_PyRuntime") == 0) out.py_runtime = s.st_value;
    if (!out.py_version_vaddr && std::strcmp(name, "Py_Version") == 0) {
      out.py_version_vaddr = s.st_value;
    }
  }
}

struct ElfFacts {
  bool exec = false;  // ET_EXEC: no load bias
  std::uint64_t first_load_vaddr = 0;
  Symbols symbols;
  std::optional<std::uint32_t> py_version;  // 0xMMmmppLS
};

Result<ElfFacts> read_elf(const File& f, const std::string& path) {
  Elf64_Ehdr eh{};
  if (!f.read(0, &eh, sizeof eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return Error{path + ": not a 64-bit ELF file"};
  }
  ElfFacts facts;
  facts.exec = eh.e_type == ET_EXEC;
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_shentsize != sizeof(Elf64_Shdr) ||
      eh.e_shnum > 4096 || eh.e_phnum > 4096) {
    return Error{path + ": unexpected ELF header sizes"};
  }
  std::vector<Elf64_Phdr> ph(eh.e_phnum);
  if (!f.read(eh.e_phoff, ph.data(), ph.size() * sizeof(Elf64_Phdr))) {
    return Error{path + ": truncated program headers"};
  }
  for (const auto& p : ph) {
    if (p.p_type == PT_LOAD) {
      facts.first_load_vaddr = p.p_vaddr & ~std::uint64_t{0xfff};
      break;
    }
  }
  std::vector<Elf64_Shdr> sh(eh.e_shnum);
  if (!f.read(eh.e_shoff, sh.data(), sh.size() * sizeof(Elf64_Shdr))) {
    return Error{path + ": truncated section headers"};
  }
  // .dynsym first: both symbols are exported, and pyenv's .symtab is ~20x larger
  // (hundreds of ms to scan on a busy machine), so it is read only as a fallback.
  for (Elf64_Word type : {SHT_DYNSYM, SHT_SYMTAB}) {
    if (facts.symbols.py_runtime) break;
    for (const auto& s : sh) {
      if (s.sh_type == type && s.sh_link < sh.size()) {
        scan_symbols(f, s, sh[s.sh_link], facts.symbols);
      }
    }
  }
  if (facts.symbols.py_version_vaddr) {
    std::uint64_t vaddr = *facts.symbols.py_version_vaddr;
    for (const auto& s : sh) {
      if (s.sh_type == SHT_PROGBITS && vaddr >= s.sh_addr && vaddr + 4 <= s.sh_addr + s.sh_size) {
        std::uint32_t value = 0;
        if (f.read(s.sh_offset + (vaddr - s.sh_addr), &value, sizeof value)) {
          facts.py_version = value;
        }
        break;
      }
    }
  }
  return facts;
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
  auto facts = read_elf(*file, object->path);
  if (!facts) return Error{facts.error().message};
  if (!facts->symbols.py_runtime) return std::optional<GilLocation>{};

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
  location.runtime_address = *facts->symbols.py_runtime + bias;
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

}  // namespace boundwise::procfs
