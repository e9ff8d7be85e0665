// The exact CPython version where the ELF does not say it (3.8 and older have no
// Py_Version): Py_GetVersion() fills a static buffer at start-up with
// "3.8.18 (default, ...) [GCC ...]", which lives in the interpreter's writable data.
// Scanning those mappings (a few hundred KiB, once per process) finds it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "collectors/python/remote_memory.hpp"

namespace boundwise::python {

// Pure: the first "3.<minor>.<micro>[suffix] (" in `bytes` preceded by a NUL (the
// start of the buffer), as "3.8.18" (a suffix such as "rc1" or "+" is kept).
std::optional<std::string> find_version_string(std::string_view bytes, int minor);

// Reads the writable mappings of `object_path` (and the anonymous mapping right after
// them: .bss) listed in `maps_text` through `memory`, at most 8 MiB, and returns the
// version found there.
std::optional<std::string> scan_version(RemoteMemory& memory, const std::string& maps_text,
                                        const std::string& object_path, int minor);

}  // namespace boundwise::python
