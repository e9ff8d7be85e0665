// libFuzzer target for the config loader: any bytes give a Config or a ConfigError
// with a position. Anything else escaping (another exception, a crash) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    boundwise::parse_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  } catch (const boundwise::ConfigError& e) {
    if (e.line() < 1 || e.column() < 1) __builtin_trap();
  }
  return 0;
}
