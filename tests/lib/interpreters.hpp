// The CPython builds on this machine that the GIL tests use: pyenv's (3.8-3.13) and
// Debian's /usr/bin/python3. Found by looking at files only — no `pyenv root` child —
// so the unit tests that read pyenv's libraries as fixtures fork nothing.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace boundwise::test {

// Where pyenv keeps its versions, as `pyenv root` says: $PYENV_ROOT, else ~/.pyenv.
inline std::filesystem::path pyenv_root() {
  if (const char* env = std::getenv("PYENV_ROOT"); env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : "/root") / ".pyenv";
}

struct Interpreter {
  std::string binary;
  int minor = -1;  // from the file name; -1 when the name has none (/usr/bin/python3)
};

// Debian's python3 first, then each pyenv 3.8-3.13 as bin/python3.<minor>.
inline std::vector<Interpreter> interpreters() {
  std::vector<Interpreter> out;
  if (::access("/usr/bin/python3", X_OK) == 0) out.push_back({"/usr/bin/python3", -1});
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(pyenv_root() / "versions", ec)) {
    auto v = entry.path().filename().string();
    if (v.rfind("3.", 0) != 0) continue;
    auto minor = std::atoi(v.c_str() + 2);
    if (minor < 8 || minor > 13) continue;
    auto bin = entry.path() / "bin" / ("python3." + std::to_string(minor));
    if (::access(bin.c_str(), X_OK) == 0) out.push_back({bin.string(), minor});
  }
  return out;
}

// pyenv's shared libpython3.<minor>.so.1.0, or empty.
inline std::string libpython(int minor) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(pyenv_root() / "versions", ec)) {
    auto lib = entry.path() / "lib" / ("libpython3." + std::to_string(minor) + ".so.1.0");
    if (entry.path().filename().string().rfind("3." + std::to_string(minor) + ".", 0) == 0 &&
        std::filesystem::exists(lib)) {
      return lib.string();
    }
  }
  return {};
}

}  // namespace boundwise::test
