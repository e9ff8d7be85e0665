// Finds the address range of a CPython process's GIL from its ELF file alone (no
// memory read): the `_PyRuntime` symbol from .dynsym/.symtab, the interpreter version
// (Py_Version in the file, the soname or exe name), the load bias from
// /proc/PID/maps, and the per-version offset of the main interpreter's GIL
// (shared/PYTHON_INTERNALS.md). A thread blocked in futex on an address inside the
// range waits for the GIL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "classifier/result.hpp"

namespace boundwise::procfs {

struct GilLocation {
  std::uint64_t begin = 0;  // address of the GIL struct in the target
  std::uint64_t end = 0;    // begin + sizeof(struct _gil_runtime_state) (208)
  std::string version;      // "3.12.1" or "3.12" when only the minor is known
  bool free_threaded = false;
  bool contains(std::uint64_t address) const { return address >= begin && address < end; }
};

// Pure: the GIL's offset from _PyRuntime for a CPython minor version (3.9 → 352,
// 3.11 → 360, 3.12 → 77432, 3.13 → 96104); nullopt for versions not measured.
std::optional<std::uint64_t> gil_offset_from_runtime(int major, int minor);

// For process `pid` under `proc_root`: Ok(nullopt) when it is not a CPython
// process (no _PyRuntime), Ok(location) when it is and the version is known, an
// Error when files cannot be read. A free-threaded build (`t` ABI flag in the file
// name) yields a location with free_threaded = true and an empty range (begin == end
// == 0), which contains no address. Reads /proc/PID/maps and the ELF file through
// /proc/PID/root/<path> (so containers work).
Result<std::optional<GilLocation>> locate_gil(const std::string& proc_root, int pid);

}  // namespace boundwise::procfs
