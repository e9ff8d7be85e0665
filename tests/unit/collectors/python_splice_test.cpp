// Splicing Python frames into native stacks (collectors/stacks/python_splice.hpp): the
// eval loop's frames replaced in order, a partial native stack continued with the rest
// of the Python frames, a mismatch giving the Python frames alone.
#include "collectors/stacks/python_splice.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace boundwise::stacks {
namespace {

using python::PyFrame;
using Names = std::vector<std::string>;

PyFrame py(const std::string& name, int line, bool entry = false) {
  return {name, "/srv/app.py", line, true, entry};
}

// Leaf first: inner and middle run in one eval call (Python-to-Python calls are inline
// on 3.11+), called from C (a callback through PyObject_Call) by outer's eval call.
const std::vector<PyFrame> kPython = {py("inner", 15), py("middle", 19, true), py("outer", 23),
                                      py("<module>", 30, true)};

TEST(PythonSplice, EachEvalFrameBecomesItsPythonFrames) {
  const Names native = {"long_add",      "_PyEval_EvalFrameDefault",
                        "PyObject_Call", "_PyEval_EvalFrameDefault",
                        "Py_RunMain",    "main"};
  auto s = splice_python(native, false, kPython);
  EXPECT_TRUE(s.matched);
  EXPECT_EQ(s.frames,
            (Names{"long_add", "inner (/srv/app.py:15)", "middle (/srv/app.py:19)", "PyObject_Call",
                   "outer (/srv/app.py:23)", "<module> (/srv/app.py:30)", "Py_RunMain", "main"}));
}

TEST(PythonSplice, APartialNativeStackContinuesWithTheRestOfThePythonFrames) {
  const Names native = {"long_add", "_PyEval_EvalFrameDefault", "PyObject_Call"};
  auto s = splice_python(native, true, kPython);
  EXPECT_TRUE(s.matched);
  EXPECT_EQ(s.frames,
            (Names{"long_add", "inner (/srv/app.py:15)", "middle (/srv/app.py:19)", "PyObject_Call",
                   "[partial]", "outer (/srv/app.py:23)", "<module> (/srv/app.py:30)"}));
}

TEST(PythonSplice, AMismatchGivesThePythonFramesAlone) {
  // Three eval frames, two groups: the Python stack moved between the two reads.
  const Names native = {"_PyEval_EvalFrameDefault", "_PyEval_EvalFrameDefault",
                        "_PyEval_EvalFrameDefault", "main"};
  auto s = splice_python(native, false, kPython);
  EXPECT_FALSE(s.matched);
  EXPECT_EQ(s.frames,
            (Names{"inner (/srv/app.py:15)", "middle (/srv/app.py:19)", "outer (/srv/app.py:23)",
                   "<module> (/srv/app.py:30)", std::string(kPythonOnly)}));
  // No eval frame at all in a complete native stack: the same.
  EXPECT_FALSE(splice_python({"main"}, false, kPython).matched);
}

TEST(PythonSplice, WithoutPythonFramesTheNativeStackIsUnchanged) {
  auto s = splice_python({"read", "worker"}, true, {});
  EXPECT_TRUE(s.matched);
  EXPECT_EQ(s.frames, (Names{"read", "worker", "[partial]"}));
}

}  // namespace
}  // namespace boundwise::stacks
