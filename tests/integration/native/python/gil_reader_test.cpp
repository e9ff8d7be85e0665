// The GIL reader against live interpreters: for every CPython on this machine
// (tests/lib/interpreters.hpp), a spinning main thread is read through
// process_vm_readv as holding the GIL nearly all the time, and a read after the target
// exits is a clean skip. The fake-memory tests are unit tests
// (tests/unit/python/gil_reader_test.cpp).
#include "collectors/python/gil_reader.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "collectors/process/gil_locator.hpp"
#include "tests/lib/child_process.hpp"
#include "tests/lib/interpreters.hpp"
#include "tests/lib/wait_until.hpp"

namespace boundwise::python {
namespace {

using namespace std::chrono_literals;
using test::tids_of;

TEST(GilReaderLive, ASpinningMainThreadHoldsTheGilOnEveryInterpreter) {
  auto found = test::interpreters();
  if (found.empty()) GTEST_SKIP() << "no CPython 3.8-3.13 on this machine";
  for (const auto& interpreter : found) {
    const std::string& python = interpreter.binary;
    auto child =
        test::Child::python(python,
                            "import threading\n"
                            "threading.Thread(target=threading.Event().wait, daemon=True).start()\n"
                            "x = 0\n"
                            "while True: x += 1\n");
    const pid_t pid = child.pid();
    ASSERT_GT(pid, 0);
    std::optional<process::GilLocation> where;
    std::optional<GilReader> reader;
    ProcessMemory memory(pid);
    std::string why;
    // Until the helper thread exists and the interpreter's state validates: a reader
    // opened earlier would see a half-initialised runtime and fail.
    test::wait_until(
        [&] {
          if (tids_of(pid).size() < 2) return false;
          auto located = process::locate_gil("/proc", pid);
          if (!located || !located->has_value()) return false;
          where = **located;
          std::optional<PythonLayout> layout = table_layout(where->major, where->minor);
          auto header = read_debug_offsets(memory, where->runtime_address);
          if (header && header->has_value()) layout = (*header)->layout;
          if (!layout) return true;  // no layout for this version: fails below
          auto r = GilReader::open(memory, where->runtime_address, *layout, tids_of(pid));
          if (r) {
            reader = std::move(*r);
          } else {
            why = r.error().message;
          }
          return reader.has_value();
        },
        5s, 50ms);
    int locked = 0, by_main = 0, n = 0;
    if (reader) {
      EXPECT_EQ(reader->gil_address(), where->begin) << python << ": reader and locator disagree";
      auto tids = tids_of(pid);
      // 100 samples 0.5 ms apart: the measured interval.
      for (; n < 100; ++n) {
        GilSample s;
        ASSERT_EQ(reader->sample(memory, tids, s), SampleOutcome::ok) << python;
        locked += s.locked;
        by_main += s.holder_tid && *s.holder_tid == pid;
        std::this_thread::sleep_for(500us);
      }
    }
    child.stop();
    ASSERT_TRUE(reader) << python << ": " << why;
    // One runnable thread: the GIL is held nearly all the time, by the main thread.
    EXPECT_GE(locked, 90) << python;
    EXPECT_GE(by_main, locked - 2) << python;
    // After exit: a clean skip.
    GilSample s;
    EXPECT_EQ(reader->sample(memory, {pid}, s), SampleOutcome::gone) << python;
  }
}

}  // namespace
}  // namespace boundwise::python
