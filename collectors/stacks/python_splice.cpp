// Splicing Python frames into native stacks (contract in python_splice.hpp).
#include "collectors/stacks/python_splice.hpp"

#include "collectors/python/thread_stacks.hpp"

namespace boundwise::stacks {

Spliced splice_python(const std::vector<std::string>& native_leaf_first, bool native_partial,
                      const std::vector<python::PyFrame>& python_leaf_first) {
  Spliced out;
  if (python_leaf_first.empty()) {
    out.frames = native_leaf_first;
    if (native_partial) out.frames.emplace_back("[partial]");
    out.matched = true;
    return out;
  }
  // Python frames in groups, one per eval loop call, leaf first.
  std::vector<std::vector<std::string>> groups(1);
  for (const auto& f : python_leaf_first) {
    groups.back().push_back(python::frame_name(f));
    if (f.eval_entry) groups.emplace_back();
  }
  if (groups.back().empty()) groups.pop_back();
  std::size_t evals = 0;
  for (const auto& name : native_leaf_first) evals += name == kEvalFrame ? 1 : 0;
  const bool fits = evals == groups.size() || (native_partial && evals < groups.size());
  if (!fits) {
    for (const auto& group : groups)
      out.frames.insert(out.frames.end(), group.begin(), group.end());
    out.frames.emplace_back(kPythonOnly);
    return out;
  }
  std::size_t next = 0;
  for (const auto& name : native_leaf_first) {
    if (name == kEvalFrame) {
      out.frames.insert(out.frames.end(), groups[next].begin(), groups[next].end());
      ++next;
    } else {
      out.frames.push_back(name);
    }
  }
  if (native_partial) {
    out.frames.emplace_back("[partial]");
    for (; next < groups.size(); ++next) {
      out.frames.insert(out.frames.end(), groups[next].begin(), groups[next].end());
    }
  }
  out.matched = true;
  return out;
}

}  // namespace boundwise::stacks
