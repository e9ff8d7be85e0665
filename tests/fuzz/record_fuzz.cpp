// libFuzzer target for record and replay's line format: any bytes give a recorded
// window or an error saying what is wrong. A window that parses must write back to a
// line that parses to the same window (NaN aside) and go through assemble, classify
// and recommend. Anything else escaping (an exception, a crash) is a bug.
#include <cmath>
#include <cstddef>
#include <cstdint>
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
  auto again = boundwise::parse_record_line(boundwise::to_record_line(*window));
  if (!again) __builtin_trap();
  // Equal unless a NaN (unequal to itself) or invalid UTF-8 (written as U+FFFD) is in it.
  (void)(*again == *window);
  (void)boundwise::replay_window(*window);
  return 0;
}
