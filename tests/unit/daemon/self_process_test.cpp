// The agent's own process metrics: the /proc/stat and /proc/self/limits parsers on
// real kernel text, read_self_process on this test's own /proc/self (its fds rise
// when it opens files, its CPU time when it burns CPU), and the process_* series the
// publisher renders from it.
#include "daemon/self_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <vector>

#include "daemon/metrics.hpp"
#include "tests/unit/daemon/metrics_samples.hpp"

namespace boundwise {
namespace {

TEST(SelfProcess, ParsesBtimeFromProcStat) {
  const char* text =
      "cpu  2255 34 2290 22625563 6290 127 456 0 0 0\n"
      "cpu0 1132 34 1441 11311718 3675 127 438 0 0 0\n"
      "intr 114930548 113199788 3 0 5 263 0 4 [... lots more numbers ...]\n"
      "ctxt 1990473\n"
      "btime 1062191376\n"
      "processes 2915\n"
      "procs_running 1\n";
  EXPECT_EQ(parse_btime(text), 1062191376.0);
  EXPECT_EQ(parse_btime("cpu  1 2 3\nctxt 4\n"), std::nullopt);
  EXPECT_EQ(parse_btime("btime \n"), std::nullopt);
  EXPECT_EQ(parse_btime("btime 12x\n"), std::nullopt);
}

TEST(SelfProcess, ParsesTheSoftLimitOfOpenFiles) {
  const char* text =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            1024                 1048576              files     \n"
      "Max locked memory         8388608              8388608              bytes     \n";
  auto limit = parse_max_open_files(text);
  ASSERT_TRUE(limit) << limit.error().message;
  EXPECT_EQ(*limit, 1024.0);
  auto unlimited = parse_max_open_files("Max open files  unlimited  unlimited  files\n");
  ASSERT_TRUE(unlimited);
  EXPECT_EQ(*unlimited, std::nullopt);
  EXPECT_FALSE(parse_max_open_files("Max cpu time  unlimited  unlimited  seconds\n"));
  EXPECT_FALSE(parse_max_open_files("Max open files  lots  lots  files\n"));
}

TEST(SelfProcess, ReadsThisProcessFromProc) {
  auto before = read_self_process();
  ASSERT_TRUE(before) << before.error().message;
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) fds.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  // Burn 0.1 s of CPU (the process's own CPU clock, so a loaded machine only makes it
  // take longer) so the tick-granular counter must move.
  const auto cpu_now = [] {
    timespec t{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
  };
  const double start = cpu_now();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  volatile double x = 0;
  while (cpu_now() - start < 0.1 && std::chrono::steady_clock::now() < give_up) x = x + 1;
  auto after = read_self_process();
  for (int fd : fds) ::close(fd);
  ASSERT_TRUE(after) << after.error().message;

  EXPECT_EQ(after->open_fds, before->open_fds + 5);
  EXPECT_GE(after->cpu_seconds, before->cpu_seconds + 0.05);
  EXPECT_GT(after->resident_bytes, 1024.0 * 1024);  // a gtest binary is more than 1 MiB
  rlimit lim{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &lim), 0);
  if (lim.rlim_cur == RLIM_INFINITY) {
    EXPECT_EQ(after->max_fds, std::nullopt);
  } else {
    EXPECT_EQ(after->max_fds, static_cast<double>(lim.rlim_cur));
  }
  // Started before now, and not before the test binary could have (a minute ago is generous).
  const auto now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(after->start_time_seconds, now + 1);
  EXPECT_GE(after->start_time_seconds, now - 60);
}

TEST(SelfProcess, AMissingProcRootIsAnErrorThatNamesTheFile) {
  auto p = read_self_process("/nonexistent-proc");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("/nonexistent-proc/self/stat"), std::string::npos)
      << p.error().message;
}

TEST(SelfProcess, TheExpositionHasTheStandardProcessMetrics) {
  MetricsPublisher m;
  const std::string before = m.render();
  for (const char* name : {"process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_open_fds", "process_start_time_seconds"}) {
    EXPECT_TRUE(test::value(before, name, {})) << name << "\n" << before;
  }
  const double fds = *test::value(before, "process_open_fds", {});
  std::vector<int> opened;
  for (int i = 0; i < 3; ++i) opened.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  m.publish(test::snapshot_with({test::report("api", 10, 50)}));
  const std::string after = m.render();
  for (int fd : opened) ::close(fd);
  EXPECT_EQ(test::value(after, "process_open_fds", {}), fds + 3);
  EXPECT_GT(*test::value(after, "process_resident_memory_bytes", {}), 0);
}

}  // namespace
}  // namespace boundwise
