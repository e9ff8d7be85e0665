// The crash handler (daemon/crash_handler.hpp) in a forked child that crashes on
// purpose: a null-pointer write (SIGSEGV) and an abort() (SIGABRT). The child's stderr
// must name the signal and the function that crashed, and the child must still die of
// that signal (the handler re-raises it); no core file is written (RLIMIT_CORE 0).
#include "daemon/crash_handler.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "tests/lib/child_process.hpp"

// Outside any namespace, never inlined and without parameters (nothing for the compiler
// to specialise into a renamed clone): the names the backtrace must show. Not checked by
// UBSan: in the sanitizer build it would report the null store and exit before the
// store faults, and the fault is what is tested.
int* volatile null_target = nullptr;

extern "C" __attribute__((noinline, no_sanitize("undefined"))) void
boundwise_test_crash_by_null_write() {
  *null_target = 42;
  __asm__ volatile("" ::: "memory");  // no tail call: this frame stays on the stack
}

extern "C" __attribute__((noinline)) void boundwise_test_crash_by_abort() {
  std::abort();
  __asm__ volatile("" ::: "memory");
}

namespace boundwise {
namespace {

struct Crash {
  std::string stderr_text;
  int status = 0;
};

// Runs `crash` in a child whose stderr is a pipe, after install_crash_handler().
Crash crash_child(void (*crash)()) {
  int out[2];
  if (::pipe(out) != 0) return {};
  test::Child child([&] {
    ::close(out[0]);
    ::dup2(out[1], STDERR_FILENO);
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    install_crash_handler();
    crash();
  });
  ::close(out[1]);
  Crash result;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) result.stderr_text.append(buf, n);
  ::close(out[0]);
  ::waitpid(child.pid(), &result.status, 0);
  return result;
}

TEST(CrashHandler, ASegfaultLogsTheBacktraceAndStillKillsWithSigsegv) {
  auto crash = crash_child([] { boundwise_test_crash_by_null_write(); });
  ASSERT_TRUE(WIFSIGNALED(crash.status)) << crash.stderr_text;
  EXPECT_EQ(WTERMSIG(crash.status), SIGSEGV);
  EXPECT_NE(crash.stderr_text.find("fatal signal 11 (SIGSEGV), fault address 0x0000000000000000"),
            std::string::npos)
      << crash.stderr_text;
  // Frame 0 is the faulting function itself, its callers below it.
  EXPECT_NE(crash.stderr_text.find("#0 0x"), std::string::npos) << crash.stderr_text;
  const auto at = crash.stderr_text.find(" boundwise_test_crash_by_null_write+0x");
  ASSERT_NE(at, std::string::npos) << crash.stderr_text;
  EXPECT_LT(at, crash.stderr_text.find("#1 ")) << crash.stderr_text;
  EXPECT_NE(crash.stderr_text.find("end of backtrace"), std::string::npos) << crash.stderr_text;
}

TEST(CrashHandler, AnAbortLogsTheBacktraceAndStillKillsWithSigabrt) {
  auto crash = crash_child([] { boundwise_test_crash_by_abort(); });
  ASSERT_TRUE(WIFSIGNALED(crash.status)) << crash.stderr_text;
  EXPECT_EQ(WTERMSIG(crash.status), SIGABRT);
  EXPECT_NE(crash.stderr_text.find("fatal signal 6 (SIGABRT)"), std::string::npos)
      << crash.stderr_text;
  EXPECT_NE(crash.stderr_text.find(" abort+0x"), std::string::npos) << crash.stderr_text;
  EXPECT_NE(crash.stderr_text.find(" boundwise_test_crash_by_abort+0x"), std::string::npos)
      << crash.stderr_text;
}

TEST(CrashHandler, HexIsFormattedWithoutTheCLibrary) {
  char out[24];
  EXPECT_EQ(format_hex(0x7f00dead, out), 18);
  EXPECT_STREQ(out, "0x000000007f00dead");
  EXPECT_EQ(format_hex(~0UL, out), 18);
  EXPECT_STREQ(out, "0xffffffffffffffff");
  EXPECT_EQ(format_hex(0x1a, out, 1), 4);
  EXPECT_STREQ(out, "0x1a");
  EXPECT_EQ(format_hex(0, out, 1), 3);
  EXPECT_STREQ(out, "0x0");
  EXPECT_EQ(format_hex(0x1a, out, 4), 6);
  EXPECT_STREQ(out, "0x001a");
}

}  // namespace
}  // namespace boundwise
