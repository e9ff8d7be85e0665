// Python stacks and the GIL's holder of one process (contract in thread_stacks.hpp).
#include "collectors/python/thread_stacks.hpp"

namespace boundwise::python {

Result<ThreadStacks> ThreadStacks::open(RemoteMemory& memory, std::uint64_t runtime, int major,
                                        int minor, const std::set<int>& tids) {
  const std::string version = std::to_string(major) + "." + std::to_string(minor);
  std::optional<PythonLayout> layout;
  std::optional<FrameLayout> frames;
  // 3.13+: the interpreter describes itself; the tables are the fallback.
  auto header = read_debug_offsets(memory, runtime);
  if (!header) return Error{version + ": " + header.error().message};
  if (header->has_value()) {
    if ((*header)->free_threaded) return Error{version + ": free-threaded build: no GIL layout"};
    layout = (*header)->layout;
    auto described = debug_frame_layout(memory, runtime);
    if (!described) return Error{version + ": " + described.error().message};
    frames = *described;
  }
  if (!layout) layout = table_layout(major, minor);
  if (!frames) frames = table_frame_layout(major, minor);
  if (!layout || !frames) {
    return Error{version + ": Python frames are read for CPython 3.9-3.13 only"};
  }
  auto gil = GilReader::open(memory, runtime, *layout, tids);
  if (!gil) return Error{gil.error().message};
  return ThreadStacks(std::move(*gil), *frames, layout->minor);
}

FrameReader::Outcome ThreadStacks::frames(RemoteMemory& memory, int tid, const std::set<int>& tids,
                                          std::vector<PyFrame>& out, std::string* why) {
  out.clear();
  ReadError error;
  auto tstate = gil_.thread_state(memory, tid, tids, error);
  if (!tstate) {
    if (error.message.empty()) return FrameReader::Outcome::ok;  // no thread state
    if (why != nullptr) *why = error.message;
    return error.failure == ReadFailure::gone ? FrameReader::Outcome::gone
                                              : FrameReader::Outcome::failed;
  }
  return frames_.read(memory, *tstate, out, why);
}

std::string frame_name(const PyFrame& frame) {
  return frame.name + " (" + frame.file + ":" + std::to_string(frame.line) + ")";
}

}  // namespace boundwise::python
