// The GIL locator (collectors/process/gil_locator.hpp) against live interpreters: for
// every CPython on this machine (tests/lib/interpreters.hpp), threads waiting for the
// GIL are seen blocked in futex inside the located range. The fixture proc roots are
// unit tests (tests/unit/collectors/gil_locator_test.cpp).
#include "collectors/process/gil_locator.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "collectors/procfs/parse.hpp"
#include "tests/lib/child_process.hpp"
#include "tests/lib/interpreters.hpp"
#include "tests/lib/wait_until.hpp"

namespace boundwise::process {
namespace {

using namespace std::chrono_literals;

// The minor version in a name such as python3.12 or libpython3.12.so.1.0; -1 if none.
int minor_in_name(const std::string& name) {
  auto at = name.find("python3.");
  if (at == std::string::npos) return -1;
  return std::atoi(name.c_str() + at + 8);
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(LocateGil, WaitersBlockInsideTheRangeOnEveryInterpreter) {
  auto found = test::interpreters();
  if (found.empty()) GTEST_SKIP() << "no CPython 3.8-3.13 on this machine";
  for (const auto& [python, minor] : found) {
    auto child = test::Child::python(python,
                                     "import threading\n"
                                     "def spin():\n"
                                     "    x = 0\n"
                                     "    while True: x += 1\n"
                                     "for _ in range(3): threading.Thread(target=spin, "
                                     "daemon=True).start()\n"
                                     "threading.Event().wait()\n");
    const pid_t pid = child.pid();
    ASSERT_GT(pid, 0);
    std::optional<GilLocation> gil;
    // Until the interpreter has mapped libpython (or itself) and one of its spinning
    // threads is caught in futex(2) (202 on x86_64) on an address inside the range.
    bool waiter_inside = test::wait_until(
        [&] {
          if (!gil) {
            auto located = locate_gil("/proc", pid);
            if (!located || !located->has_value()) return false;
            gil = **located;
          }
          std::error_code ec;
          for (const auto& task :
               std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
            auto s = procfs::parse_syscall(read(task.path().string() + "/syscall"));
            if (s && s->number == 202 && gil->contains(s->args[0])) return true;
          }
          return false;
        },
        5s, 10ms);
    child.stop();
    ASSERT_TRUE(gil) << python << ": GIL not located";
    EXPECT_FALSE(gil->version.empty()) << python;
    EXPECT_FALSE(gil->free_threaded) << python;
    if (minor >= 0) {
      EXPECT_EQ(minor_in_name("python" + gil->version), minor) << python << " " << gil->version;
    }
    EXPECT_TRUE(waiter_inside) << python << ": no thread seen waiting inside [" << std::hex
                               << gil->begin << ", " << gil->end << ")";
  }
}

}  // namespace
}  // namespace boundwise::process
