// What this binary is: its version, the git commit it was built from, the CMake build
// type and the compiler. Captured when the binary is built (daemon/build_info.cmake
// runs at every build, so a new commit shows without re-running CMake); a build from
// a tree that is not a git checkout says "unknown" for the commit. `--version` prints
// it and `boundwise_build_info` carries it as labels.
#pragma once

#include <string>
#include <string_view>

namespace boundwise {

struct BuildInfo {
  std::string_view version;     // the project version, "0.1.0"
  std::string_view commit;      // 12 hex digits, "-dirty" when tracked files were modified;
                                // "unknown" outside git
  std::string_view build_type;  // CMAKE_BUILD_TYPE, "RelWithDebInfo"
  std::string_view compiler;    // compiler id and version, "GNU 12.2.0"
};

const BuildInfo& build_info();

// `boundwise --version`: "boundwise VERSION" then one "key: value" line per field.
std::string version_text(const BuildInfo& info);

}  // namespace boundwise
