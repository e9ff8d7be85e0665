// Python frames read from live interpreters: for every CPython on this machine with a
// frame layout (3.9-3.13, Debian's stripped python3 included), the main thread of
// tests/workloads/py_chain.py is read through process_vm_readv as the chain
// inner_spin <- middle_step <- outer_step, leaf first, with the workload's file name and
// inner_spin at its spinning line; the GIL reader of the same layout names that thread
// as the holder; a read after the target exits is a clean `gone`. Fake-memory tests:
// tests/unit/python/frame_reader_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>

#include "collectors/process/gil_locator.hpp"
#include "collectors/python/thread_stacks.hpp"
#include "tests/lib/child_process.hpp"
#include "tests/lib/interpreters.hpp"
#include "tests/lib/wait_until.hpp"

namespace boundwise::python {
namespace {

using namespace std::chrono_literals;
using test::tids_of;

const std::string kWorkload = std::string(BOUNDWISE_SOURCE_DIR) + "/tests/workloads/py_chain.py";

// The line of the workload marked "# the spinning line".
int spinning_line() {
  std::ifstream in(kWorkload);
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (text.find("# the spinning line") != std::string::npos) return n;
  }
  return -1;
}

TEST(FrameReaderLive, TheSpinningChainOnEveryInterpreterWithAFrameLayout) {
  auto found = test::interpreters();
  if (found.empty()) GTEST_SKIP() << "no CPython 3.8-3.13 on this machine";
  const int line = spinning_line();
  ASSERT_GT(line, 0) << kWorkload;
  int checked = 0;
  for (const auto& interpreter : found) {
    if (interpreter.minor != -1 && interpreter.minor < 9) continue;  // no frame layout yet
    const std::string& python = interpreter.binary;
    test::Child child([&] {
      ::execl(python.c_str(), python.c_str(), kWorkload.c_str(), nullptr);
      ::_exit(127);
    });
    const pid_t pid = child.pid();
    ASSERT_GT(pid, 0);
    ProcessMemory memory(pid);
    std::optional<ThreadStacks> stacks;
    std::vector<PyFrame> frames;
    std::string why;
    // Until the interpreter is up and the main thread is inside the chain.
    bool in_chain = test::wait_until(
        [&] {
          if (!stacks) {
            auto located = process::locate_gil("/proc", pid);
            if (!located || !located->has_value()) return false;
            const auto& where = **located;
            auto opened = ThreadStacks::open(memory, where.runtime_address, where.major,
                                             where.minor, tids_of(pid));
            if (!opened) {
              why = opened.error().message;
              return false;
            }
            stacks = std::move(*opened);
          }
          if (stacks->frames(memory, pid, tids_of(pid), frames, &why) != FrameReader::Outcome::ok) {
            return false;
          }
          return frames.size() >= 3 && frames[0].name == "inner_spin";
        },
        5s, 20ms);
    if (!stacks && interpreter.minor == -1) {
      // Debian's python3 may be 3.12+ one day, or a version without a layout.
      ADD_FAILURE() << python << ": " << why;
      continue;
    }
    ASSERT_TRUE(in_chain) << python << ": " << why << " (" << frames.size() << " frames)";
    ++checked;
    EXPECT_EQ(frames[0].name, "inner_spin") << python;
    EXPECT_EQ(frames[1].name, "middle_step") << python;
    EXPECT_EQ(frames[2].name, "outer_step") << python;
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(frames[i].file, kWorkload) << python << " frame " << i;
      EXPECT_TRUE(frames[i].line_exact) << python << " frame " << i;
    }
    // The loop's two lines (`while True` and the arithmetic) alternate.
    EXPECT_GE(frames[0].line, line - 1) << python;
    EXPECT_LE(frames[0].line, line) << python;
    EXPECT_EQ(frames[1].line, line + 4) << python;  // inner_spin() in middle_step
    // The oldest frame is <module>, and the whole stack is one eval loop call (the
    // chain makes only Python-to-Python calls, which 3.11+ runs inline); before 3.11
    // each frame is an eval loop call of its own.
    EXPECT_EQ(frames.back().name, "<module>") << python;
    int entries = 0;
    for (const auto& f : frames) entries += f.eval_entry ? 1 : 0;
    const bool frame_objects = interpreter.minor != -1 && interpreter.minor < 11;
    EXPECT_EQ(entries, frame_objects ? static_cast<int>(frames.size()) : 1) << python;
    EXPECT_TRUE(frames.back().eval_entry) << python;
    // One spinning thread holds the GIL nearly all the time.
    int held = 0;
    for (int i = 0; i < 20; ++i) {
      GilSample s;
      ASSERT_EQ(stacks->gil(memory, tids_of(pid), s), SampleOutcome::ok) << python;
      held += s.holder_tid == pid ? 1 : 0;
    }
    EXPECT_GE(held, 15) << python;
    child.stop();
    EXPECT_EQ(stacks->frames(memory, pid, {pid}, frames), FrameReader::Outcome::gone) << python;
  }
  if (checked == 0) GTEST_SKIP() << "no CPython 3.9-3.13 on this machine";
}

}  // namespace
}  // namespace boundwise::python
