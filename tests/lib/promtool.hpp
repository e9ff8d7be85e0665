// Runs `promtool check metrics` on an exposition, for the metrics tests. Each call
// starts promtool as a child process: integration tier only
// (tests/integration/native/daemon/promtool_test.cpp).
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace boundwise::promtool {

inline bool installed() { return std::system("command -v promtool >/dev/null 2>&1") == 0; }

// What promtool says about `text`: "" when it has nothing to say, otherwise its
// output, prefixed with the exit status when it failed. ctest runs every test in
// its own process, two at a time, so each call writes its own mkstemp files.
inline std::string check(const std::string& text) {
  char in_name[] = "/tmp/boundwise-promtool-XXXXXX";
  int in_fd = ::mkstemp(in_name);
  char out_name[] = "/tmp/boundwise-promtool-out-XXXXXX";
  int out_fd = ::mkstemp(out_name);
  if (in_fd < 0 || out_fd < 0) {
    return "cannot create a temporary file in /tmp";
  }
  ::close(in_fd);
  ::close(out_fd);
  std::ofstream(in_name) << text;
  int rc = std::system(
      (std::string("promtool check metrics < ") + in_name + " > " + out_name + " 2>&1").c_str());
  std::ifstream in(out_name);
  std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(in_name);
  std::remove(out_name);
  return rc == 0 ? output : "exit " + std::to_string(rc) + ": " + output;
}

}  // namespace boundwise::promtool
