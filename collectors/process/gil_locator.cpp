// Locating CPython's GIL from the interpreter's ELF file and the process's maps, with
// no read of the target's memory. Offsets and symbol facts: docs/PYTHON_INTERNALS.md.
// Which object to read and how to open it are here; parsing its bytes is
// elf_facts.cpp's.
#include "collectors/process/gil_locator.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <regex>
#include <utility>
#include <vector>

#include "collectors/process/elf_facts.hpp"
#include "collectors/process/mapped_file.hpp"

namespace boundwise::process {

namespace {

constexpr std::uint64_t kGilStructSize = 208;  // _gil_runtime_state, 3.9–3.13

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
