// libFuzzer target for the Python frame reader (collectors/python/frame_reader.hpp):
// arbitrary bytes as a target's memory, mapped at kBase, read as a 3.9, 3.10, 3.11, 3.12
// or 3.13 thread state (the first byte chooses: 3.(9 + byte % 5)), as a
// `_Py_DebugOffsets` header and as a line table of each format. The reader gives frames
// or a failure, never a crash, a hang or a read outside the image; its bounds hold (at
// most kMaxPythonFrames frames, names of at most kMaxPythonString characters). Seeds
// (corpus/python_frames/): 3.12 and 3.10 images of a three-frame chain built by
// gen_python_frames.py, and garbage.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "collectors/python/frame_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace boundwise::python;
  constexpr std::uint64_t kBase = 0x10000;
  if (size < 2) return 0;
  const std::span<const std::uint8_t> bytes(data, size);
  (void)line_at(bytes, 1, data[1] * 2u);
  (void)line_at_lnotab(bytes, 1, data[1] * 2u);
  (void)line_at_linetable_310(bytes, 1, data[1] * 2u);
  FakeMemory memory;
  memory.add(kBase, std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
  (void)debug_frame_layout(memory, kBase);
  auto layout = table_frame_layout(3, 9 + data[0] % 5);
  if (!layout) return 0;
  FrameReader reader(*layout);
  std::vector<PyFrame> frames;
  for (int pass = 0; pass < 2; ++pass) {  // the second from the code cache
    (void)reader.read(memory, kBase + 8, frames);
    if (frames.size() > kMaxPythonFrames) __builtin_trap();
    for (const auto& f : frames) {
      if (f.name.size() > 4 * kMaxPythonString || f.file.size() > 4 * kMaxPythonString) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
