// libFuzzer target for the stacks collector's record parsers (collectors/stacks/):
// a PERF_RECORD_SAMPLE body (perf_sample.hpp) and /proc/kallsyms text
// (kernel_symbols.hpp) from arbitrary bytes give a value or an Error, never a crash or
// a read outside the input. Seeds (corpus/perf_sample/): records with and without user
// registers and stack, truncated ones, and kallsyms lines.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "collectors/stacks/kernel_symbols.hpp"
#include "collectors/stacks/perf_sample.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span<const std::uint8_t>(data, size));
  auto sample = boundwise::stacks::parse_sample(bytes);
  if (sample) {
    // The stack is a part of the input.
    if (!sample->stack.empty() &&
        (sample->stack.data() < bytes.data() ||
         sample->stack.data() + sample->stack.size() > bytes.data() + bytes.size())) {
      __builtin_trap();
    }
  }
  auto symbols = boundwise::stacks::KernelSymbols::parse(
      std::string_view(reinterpret_cast<const char*>(data), size));
  std::uint64_t address = 0;
  if (size >= sizeof address) std::memcpy(&address, data, sizeof address);
  (void)symbols.name_at(address);
  return 0;
}
