// A CPython process's threads as the stacks collector reads them: the Python frames
// of a native thread (frame_reader.hpp) and which thread holds the GIL
// (gil_reader.hpp), through one layout validated on the live process. The layout is
// `_Py_DebugOffsets` on 3.13, else the per-version tables; 3.9-3.13 (3.8 is not read
// yet). Pure apart from the RemoteMemory it is given.
//
// Thread-safety: used by one thread at a time.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "classifier/result.hpp"
#include "collectors/python/frame_reader.hpp"
#include "collectors/python/gil_reader.hpp"
#include "collectors/python/remote_memory.hpp"

namespace boundwise::python {

class ThreadStacks {
 public:
  // `runtime`: _PyRuntime's address; `major`/`minor`: the version the ELF says
  // (process/gil_locator.hpp); `tids`: the process's threads now. An Error says why
  // the process's stacks cannot be read ("3.8: Python frames are read for CPython 3.9-3.13 only").
  static Result<ThreadStacks> open(RemoteMemory& memory, std::uint64_t runtime, int major,
                                   int minor, const std::set<int>& tids);

  // The Python frames of native thread `tid`, leaf first; empty when the thread has no
  // thread state (it never ran Python code). As FrameReader::read otherwise.
  FrameReader::Outcome frames(RemoteMemory& memory, int tid, const std::set<int>& tids,
                              std::vector<PyFrame>& out, std::string* why = nullptr);

  // Who holds the GIL now (GilReader::sample).
  SampleOutcome gil(RemoteMemory& memory, const std::set<int>& tids, GilSample& out,
                    std::string* why = nullptr) {
    return gil_.sample(memory, tids, out, why);
  }

  int minor() const { return minor_; }

 private:
  ThreadStacks(GilReader gil, const FrameLayout& frames, int minor)
      : gil_(std::move(gil)), frames_(frames), minor_(minor) {}

  GilReader gil_;
  FrameReader frames_;
  int minor_;
};

// "compute (/srv/app.py:42)": a Python frame's name in a folded stack.
std::string frame_name(const PyFrame& frame);

}  // namespace boundwise::python
