// CPU time per stage of the agent (boundwise_agent_stage_seconds_total{stage}).
#pragma once

#include <ctime>
#include <map>
#include <string>

namespace boundwise {

// CPU seconds of a clock (CLOCK_THREAD_CPUTIME_ID, or a thread's pthread_getcpuclockid).
inline double cpu_seconds(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// CPU seconds by stage ("discovery", "sampling", "assembly", "classify", "publish",
// "http"), cumulative since start.
using StageCpu = std::map<std::string, double>;

// Adds the calling thread's CPU time over its scope to `total`.
class StageClock {
 public:
  explicit StageClock(double& total)
      : total_(total), start_(cpu_seconds(CLOCK_THREAD_CPUTIME_ID)) {}
  ~StageClock() { total_ += cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - start_; }
  StageClock(const StageClock&) = delete;
  StageClock& operator=(const StageClock&) = delete;

 private:
  double& total_;
  double start_;
};

}  // namespace boundwise
