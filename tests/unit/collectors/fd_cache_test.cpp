// The bounded LRU of kept-open procfs files: it never holds more than its capacity,
// closes the least recently used first, reopens what it closed, and closes what it
// forgets or holds when destroyed (counted in this process's /proc/self/fd); and the
// rule that sizes it from max_open_files, the open-files limit and the memory limit.
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

constexpr std::uint64_t kMiB = 1 << 20;

TEST(KeptFilesCapacity, DefaultIsTheMemoryBudgetWhenNoLimitIsLower) {
  auto c = kept_files_capacity({});
  EXPECT_EQ(c.files, kDefaultKeptFilesMemory / kKernelBytesPerKeptFile);
  EXPECT_EQ(c.files, 10922u);  // 64 MiB at 6 KiB a file
  EXPECT_EQ(c.by, KeptFilesBoundBy::default_memory);
  EXPECT_FALSE(c.lowered);
  // A high fd limit and a large memory limit do not raise it.
  c = kept_files_capacity({1'000'000, 8192 * kMiB, 0});
  EXPECT_EQ(c.files, 10922u);
  EXPECT_EQ(c.by, KeptFilesBoundBy::default_memory);
}

TEST(KeptFilesCapacity, HalfTheOpenFilesLimitOnBothSidesOfTheBudget) {
  auto c = kept_files_capacity({1024, std::nullopt, 0});
  EXPECT_EQ(c.files, 512u);
  EXPECT_EQ(c.by, KeptFilesBoundBy::open_files);
  EXPECT_FALSE(c.lowered);  // nothing configured: a bound, not a correction
  // Just above twice the budget: the budget binds; just below: the limit does.
  EXPECT_EQ(kept_files_capacity({2 * 10922, std::nullopt, 0}).by, KeptFilesBoundBy::default_memory);
  c = kept_files_capacity({2 * 10922 - 2, std::nullopt, 0});
  EXPECT_EQ(c.files, 10921u);
  EXPECT_EQ(c.by, KeptFilesBoundBy::open_files);
}

TEST(KeptFilesCapacity, AQuarterOfTheMemoryLimit) {
  // 64 MiB: 16 MiB for kept files, 2 730 of 6 KiB (2 000 idle threads fit).
  auto c = kept_files_capacity({65536, 64 * kMiB, 0});
  EXPECT_EQ(c.files, 2730u);
  EXPECT_EQ(c.by, KeptFilesBoundBy::memory_limit);
  // A quarter of 256 MiB is the default budget (64 MiB): a little more and the budget
  // binds, a file's worth less and the limit does.
  EXPECT_EQ(kept_files_capacity({65536, 256 * kMiB + 24 * 1024, 0}).by,
            KeptFilesBoundBy::default_memory);
  EXPECT_EQ(kept_files_capacity({65536, 256 * kMiB - 24 * 1024, 0}).by,
            KeptFilesBoundBy::memory_limit);
  // Both limits: the lower wins.
  c = kept_files_capacity({1024, 64 * kMiB, 0});
  EXPECT_EQ(c.files, 512u);
  EXPECT_EQ(c.by, KeptFilesBoundBy::open_files);
}

TEST(KeptFilesCapacity, ConfiguredIsKeptUnlessALimitIsLower) {
  auto c = kept_files_capacity({65536, std::nullopt, 20000});
  EXPECT_EQ(c.files, 20000u);  // above the default budget: what was asked for
  EXPECT_EQ(c.by, KeptFilesBoundBy::configured);
  EXPECT_FALSE(c.lowered);
  c = kept_files_capacity({65536, 64 * kMiB, 20000});
  EXPECT_EQ(c.files, 2730u);
  EXPECT_EQ(c.by, KeptFilesBoundBy::memory_limit);
  EXPECT_TRUE(c.lowered);
  c = kept_files_capacity({1024, 64 * kMiB, 600});
  EXPECT_EQ(c.files, 512u);
  EXPECT_EQ(c.by, KeptFilesBoundBy::open_files);
  EXPECT_TRUE(c.lowered);
  c = kept_files_capacity({1024, 64 * kMiB, 100});
  EXPECT_EQ(c.files, 100u);
  EXPECT_FALSE(c.lowered);
}

TEST(KeptFilesCapacity, NeverUnderTheMinimum) {
  auto c = kept_files_capacity({8, 1 * kMiB, 0});
  EXPECT_EQ(c.files, kMinKeptFiles);
  c = kept_files_capacity({0, 0, 0});
  EXPECT_EQ(c.files, kMinKeptFiles);
}

}  // namespace
}  // namespace boundwise::procfs
