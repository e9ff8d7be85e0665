// Finds the address range of a CPython process's GIL from its ELF file alone (no
// memory read): the `_PyRuntime` symbol from .dynsym/.symtab, the interpreter version
// (Py_Version in the file, the soname or exe name), the load bias from
// /proc/PID/maps, and the per-version offset of the main interpreter's GIL
// (docs/PYTHON_INTERNALS.md). A thread blocked in futex on an address inside the
// range waits for the GIL. This is the I/O half of the ELF reader: which file to
// read and how to open it safely; the bytes are parsed by elf_facts.hpp. Collectors
// do not call locate_gil() directly: they ask the shared cache (process_images.hpp),
// which reads each process's ELF once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "classifier/result.hpp"

namespace boundwise::process {

struct GilLocation {
  std::uint64_t begin = 0;  // address of the GIL struct in the target
  std::uint64_t end = 0;    // begin + sizeof(struct _gil_runtime_state) (208)
  std::string version;      // "3.12.1" or "3.12" when only the minor is known
  int major = 0;            // 3, or 0 when the version is unknown
  int minor = -1;           // -1 when unknown
  bool free_threaded = false;
  std::uint64_t runtime_address = 0;  // _PyRuntime in the target (load bias applied)
  std::string object_path;            // the ELF holding _PyRuntime, as mapped in the target
  bool contains(std::uint64_t address) const { return address >= begin && address < end; }
};

// Pure: the GIL's offset from _PyRuntime for a CPython minor version (3.8 → 1152,
// 3.9 → 352,
// 3.11 → 360, 3.12 → 77432, 3.13 → 96104); nullopt for versions not measured.
std::optional<std::uint64_t> gil_offset_from_runtime(int major, int minor);

// For process `pid` under `proc_root`: Ok(nullopt) when it is not a CPython
// process (no _PyRuntime), Ok(location) when it is, an Error when files cannot be
// read. The range is empty (begin == end == 0, containing no address) when the GIL's
// offset is not known for the version (3.8, 3.14, unknown) or for a free-threaded
// build (`t` ABI flag in the file name); version and runtime_address are still set. Reads
// /proc/PID/maps, then the mapped ELF file itself: through map_files/ or exe where the
// kernel allows, else by its name under /proc/PID/root (so containers work). Never
// blocks on what the target's owner put at that name: opens are non-blocking, a final
// symlink is refused, and only a regular file with the mapping's device and inode (and
// at most 1 GiB) is read.
Result<std::optional<GilLocation>> locate_gil(const std::string& proc_root, int pid);

}  // namespace boundwise::process
