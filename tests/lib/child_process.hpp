// A child process of a C++ integration test, killed and reaped when it goes out of
// scope, so a failed assertion never leaves a spinning interpreter behind. Fork-based
// on purpose: the tests need the child's PID at once and its exact start (no shell in
// between). Only for the integration tier (tests/integration/native/): unit tests fork
// nothing.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <string>

namespace boundwise::test {

class Child {
 public:
  // Runs `body` in a forked child, which exits with 0 when `body` returns. With
  // `own_group`, the child leads a new process group and stop() kills the whole group
  // (children the body forks included).
  explicit Child(const std::function<void()>& body, bool own_group = false)
      : own_group_(own_group) {
    pid_ = ::fork();
    if (pid_ == 0) {
      if (own_group_) ::setpgid(0, 0);
      body();
      ::_exit(0);
    }
    // Set from both sides: whichever runs first, the group exists before a kill.
    if (own_group_ && pid_ > 0) ::setpgid(pid_, pid_);
  }

  // Execs `python -c code` in a forked child (exit status 127 if the exec fails).
  static Child python(const std::string& python, const char* code) {
    return Child([&] {
      ::execl(python.c_str(), python.c_str(), "-c", code, nullptr);
      ::_exit(127);
    });
  }

  ~Child() { stop(); }
  Child(Child&& other) noexcept : pid_(other.pid_), own_group_(other.own_group_) {
    other.pid_ = -1;
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child& operator=(Child&&) = delete;

  // SIGKILL and reap; a no-op once done.
  void stop() {
    if (pid_ > 0) {
      if (own_group_) ::kill(-pid_, SIGKILL);
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool own_group_ = false;
};

// The thread ids of a process now (its /proc/PID/task), empty once it is gone.
inline std::set<int> tids_of(pid_t pid) {
  std::set<int> out;
  std::error_code ec;
  for (const auto& t :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    out.insert(std::atoi(t.path().filename().c_str()));
  }
  return out;
}

}  // namespace boundwise::test
