// libFuzzer target for record and replay's line format: any bytes give a recorded
// window or an error saying what is wrong. A window that parses must write a line
// that reads back and writes the same line again, and must go through assemble,
// classify and recommend. Anything else escaping (an exception, a crash) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/evidence_json.hpp"
#include "daemon/replay.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto window =
      boundwise::parse_record_line(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!window) {
    if (window.error().message.empty()) __builtin_trap();
    return 0;
  }
  // Written back and read again, a window writes the same line: nothing is lost or
  // changed by a round trip (a NaN, unequal to itself, writes as "nan" both times).
  const std::string line = boundwise::to_record_line(*window);
  auto again = boundwise::parse_record_line(line);
  if (!again || boundwise::to_record_line(*again) != line) __builtin_trap();
  (void)boundwise::replay_window(*window);
  return 0;
}
