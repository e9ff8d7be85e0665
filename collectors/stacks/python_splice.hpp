// Pure: a sampled thread's native stack with its Python frames put in, the way py-spy's
// --native does: each call of CPython's eval loop (a native `_PyEval_EvalFrameDefault`
// frame) stands for the Python frames it runs, which the frame reader marks
// (PyFrame::eval_entry: the oldest frame of each call). The k-th eval frame from the
// leaf is replaced by the k-th group of Python frames from the leaf.
//
// The native stack and the Python frames are read at slightly different times (the
// Python frames when the sample is processed, a few milliseconds to ~100 ms later), so
// they may disagree. They are spliced when the counts of eval frames and of groups
// match, or when the native unwinding stopped early (fewer eval frames: the leaf-side
// groups are spliced and the rest of the Python frames continue at the root, after
// "[partial]"). Otherwise the stack is the Python frames alone, under "[python]": still
// where the thread was in the Python code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "collectors/python/frame_reader.hpp"

namespace boundwise::stacks {

// The native frame name of CPython's eval loop (3.8-3.13).
inline constexpr std::string_view kEvalFrame = "_PyEval_EvalFrameDefault";
// The root frame of a stack of Python frames alone.
inline constexpr std::string_view kPythonOnly = "[python]";

struct Spliced {
  std::vector<std::string> frames;  // leaf first
  bool matched = false;             // the native stack kept, Python frames in place
};

// `native_leaf_first`: the symbolised user frames, without the "[partial]" marker;
// `native_partial`: the unwinding stopped before the root. `python_leaf_first`: the
// thread's Python frames (frame_reader.hpp); when empty, the native frames come back
// unchanged (with "[partial]" appended when partial).
Spliced splice_python(const std::vector<std::string>& native_leaf_first, bool native_partial,
                      const std::vector<python::PyFrame>& python_leaf_first);

}  // namespace boundwise::stacks
