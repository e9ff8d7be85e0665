// What the config loader reads besides YAML: files that may not block it.
#pragma once

#include <optional>
#include <string>

namespace boundwise {

// The content of a regular file of at most 1 MiB, read without ever blocking: a FIFO
// at the path would hang a plain open() until a writer appears. nullopt with `why`
// ("is a directory", "not a regular file", ...) otherwise.
std::optional<std::string> read_regular_file(const std::string& path, std::string& why);

}  // namespace boundwise
