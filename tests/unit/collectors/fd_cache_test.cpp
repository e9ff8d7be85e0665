// The bounded LRU of kept-open procfs files: it never holds more than its capacity,
// closes the least recently used first, reopens what it closed, and closes what it
// forgets or holds when destroyed (counted in this process's /proc/self/fd).
#include "collectors/procfs/fd_cache.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace boundwise::procfs {
namespace {

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

int open_null() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

TEST(FdCache, NeverHoldsMoreThanItsCapacity) {
  const std::size_t before = open_fds();
  {
    FdCache cache(8);
    int opens = 0;
    for (int tid = 1; tid <= 100; ++tid) {
      int fd = cache.get({1, tid, 0}, [&] {
        ++opens;
        return open_null();
      });
      EXPECT_GE(fd, 0);
      EXPECT_LE(cache.size(), 8u);
    }
    EXPECT_EQ(opens, 100);
    EXPECT_EQ(cache.evictions(), 92u);
    EXPECT_LE(open_fds(), before + 8);
  }
  EXPECT_EQ(open_fds(), before);  // the destructor closed what it kept
}

TEST(FdCache, KeepsTheRecentlyUsedAndReopensTheEvicted) {
  FdCache cache(2);
  int opens = 0;
  auto get = [&](int tid) {
    return cache.get({7, tid, 1}, [&] {
      ++opens;
      return open_null();
    });
  };
  get(1);
  get(2);
  get(1);  // 1 is now the most recently used
  get(3);  // evicts 2
  EXPECT_EQ(opens, 3);
  get(1);  // still kept
  EXPECT_EQ(opens, 3);
  get(2);  // reopened
  EXPECT_EQ(opens, 4);
}

TEST(FdCache, ForgetClosesAndAFailedOpenKeepsNothing) {
  const std::size_t before = open_fds();
  FdCache cache(4);
  cache.get({1, 1, 0}, open_null);
  cache.get({1, 2, 0}, open_null);
  EXPECT_EQ(open_fds(), before + 2);
  cache.forget({1, 1, 0});
  cache.forget({9, 9, 9});  // not kept: nothing happens
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(open_fds(), before + 1);
  EXPECT_EQ(cache.get({2, 1, 0}, [] { return -1; }), -1);
  EXPECT_EQ(cache.size(), 1u);
  // Same pid and tid, another kind: another file.
  int opens = 0;
  cache.get({1, 2, 1}, [&] {
    ++opens;
    return open_null();
  });
  EXPECT_EQ(opens, 1);
}

}  // namespace
}  // namespace boundwise::procfs
