// Waiting for a condition in a C++ test: poll it until it holds or a deadline passes,
// never a fixed sleep that guesses how long "ready" takes (too short on a loaded
// machine, wasted time on an idle one). The Python tests' twin is harness.wait_until.
#pragma once

#include <chrono>
#include <thread>

namespace boundwise::test {

// Calls `condition` every `interval` until it returns true or `timeout` has passed;
// true if it held.
template <typename Condition>
bool wait_until(Condition&& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace boundwise::test
