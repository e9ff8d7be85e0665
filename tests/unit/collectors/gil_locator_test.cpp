// The GIL locator against real interpreters: for every CPython found on this machine,
// threads waiting for the GIL are seen blocked in futex inside the located range.
#include "collectors/procfs/gil_locator.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "collectors/procfs/parse.hpp"

namespace boundwise::procfs {
namespace {

TEST(GilOffset, MeasuredVersionsOnly) {
  EXPECT_EQ(gil_offset_from_runtime(3, 9), 352u);
  EXPECT_EQ(gil_offset_from_runtime(3, 10), 352u);
  EXPECT_EQ(gil_offset_from_runtime(3, 11), 360u);
  EXPECT_EQ(gil_offset_from_runtime(3, 12), 77432u);
  EXPECT_EQ(gil_offset_from_runtime(3, 13), 96104u);
  EXPECT_FALSE(gil_offset_from_runtime(3, 8));
  EXPECT_FALSE(gil_offset_from_runtime(3, 14));
  EXPECT_FALSE(gil_offset_from_runtime(2, 7));
}

TEST(LocateGil, NotPythonAndVanished) {
  auto self = locate_gil("/proc", ::getpid());
  ASSERT_TRUE(self) << self.error().message;
  EXPECT_FALSE(self->has_value());
  EXPECT_FALSE(locate_gil("/proc", 0x3fffffff));  // no such process: an Error, not a crash
}

std::vector<std::string> interpreters() {
  std::vector<std::string> out;
  if (::access("/usr/bin/python3", X_OK) == 0) out.push_back("/usr/bin/python3");
  const char* home = std::getenv("HOME");
  std::filesystem::path versions = std::string(home ? home : "/root") + "/.pyenv/versions";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(versions, ec)) {
    auto v = entry.path().filename().string();
    if (v.rfind("3.", 0) != 0) continue;
    auto minor = std::stoi(v.substr(2));
    if (minor < 9 || minor > 13) continue;
    auto bin = entry.path() / "bin" / ("python3." + std::to_string(minor));
    if (::access(bin.c_str(), X_OK) == 0) out.push_back(bin);
  }
  return out;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(LocateGil, WaitersBlockInsideTheRangeOnEveryInterpreter) {
  auto found = interpreters();
  if (found.empty()) GTEST_SKIP() << "no CPython 3.9-3.13 on this machine";
  for (const auto& python : found) {
    pid_t pid = ::fork();
    if (pid == 0) {
      const char* code =
          "import threading\n"
          "def spin():\n"
          "    x = 0\n"
          "    while True: x += 1\n"
          "for _ in range(3): threading.Thread(target=spin, daemon=True).start()\n"
          "threading.Event().wait()\n";
      ::execl(python.c_str(), python.c_str(), "-c", code, nullptr);
      ::_exit(127);
    }
    ASSERT_GT(pid, 0);
    std::optional<GilLocation> gil;
    bool waiter_inside = false;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline && !waiter_inside) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!gil) {
        auto located = locate_gil("/proc", pid);
        if (!located || !located->has_value()) continue;
        gil = **located;
      }
      std::error_code ec;
      for (const auto& task :
           std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        auto s = parse_syscall(read(task.path().string() + "/syscall"));
        if (s && s->number == 202 && gil->contains(s->args[0])) waiter_inside = true;
      }
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    ASSERT_TRUE(gil) << python << ": GIL not located";
    EXPECT_FALSE(gil->version.empty()) << python;
    EXPECT_TRUE(waiter_inside) << python << ": no thread seen waiting inside [" << std::hex
                               << gil->begin << ", " << gil->end << ")";
  }
}

}  // namespace
}  // namespace boundwise::procfs
