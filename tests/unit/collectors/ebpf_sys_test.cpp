// Pure parts of the ebpf collector's syscalls and disk tools: the x86_64 syscall
// number → class table the BPF program indexes, and the window delta of the kernel's
// cumulative histograms.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "collectors/ebpf/kernel_histogram.hpp"
#include "collectors/ebpf/syscall_classes.hpp"

namespace boundwise::ebpf {
namespace {

std::string cls(long nr) { return std::string(syscall_class_name(syscall_class_of(nr))); }

TEST(SyscallClasses, X86_64NumbersMapToTheirClass) {
  EXPECT_EQ(cls(0), "read");      // read
  EXPECT_EQ(cls(17), "read");     // pread64
  EXPECT_EQ(cls(1), "write");     // write
  EXPECT_EQ(cls(20), "write");    // writev
  EXPECT_EQ(cls(45), "recv");     // recvfrom
  EXPECT_EQ(cls(47), "recv");     // recvmsg
  EXPECT_EQ(cls(44), "send");     // sendto
  EXPECT_EQ(cls(46), "send");     // sendmsg
  EXPECT_EQ(cls(7), "poll");      // poll
  EXPECT_EQ(cls(23), "poll");     // select
  EXPECT_EQ(cls(232), "poll");    // epoll_wait
  EXPECT_EQ(cls(281), "poll");    // epoll_pwait
  EXPECT_EQ(cls(270), "poll");    // pselect6
  EXPECT_EQ(cls(271), "poll");    // ppoll
  EXPECT_EQ(cls(202), "futex");   // futex
  EXPECT_EQ(cls(74), "fsync");    // fsync
  EXPECT_EQ(cls(75), "fsync");    // fdatasync
  EXPECT_EQ(cls(277), "fsync");   // sync_file_range
  EXPECT_EQ(cls(306), "fsync");   // syncfs
  EXPECT_EQ(cls(42), "connect");  // connect
  EXPECT_EQ(cls(43), "accept");   // accept
  EXPECT_EQ(cls(288), "accept");  // accept4
  EXPECT_EQ(cls(35), "sleep");    // nanosleep
  EXPECT_EQ(cls(230), "sleep");   // clock_nanosleep
  EXPECT_EQ(cls(110), "other");   // getppid
  EXPECT_EQ(cls(2), "other");     // open
  EXPECT_EQ(cls(-1), "other");
  EXPECT_EQ(cls(BW_SYSCALL_NR_LIMIT), "other");
  EXPECT_EQ(cls(1 << 30), "other");  // x32 ABI numbers
}

TEST(SyscallClasses, TheBpfTableAgreesWithTheFunctionAndNamesAreDistinct) {
  const auto table = syscall_class_table();
  for (long nr = 0; nr < BW_SYSCALL_NR_LIMIT; ++nr) {
    ASSERT_EQ(table[static_cast<std::size_t>(nr)], syscall_class_of(nr)) << nr;
  }
  std::set<std::string> names;
  for (std::uint32_t c = 0; c < kSyscallClasses; ++c) {
    ASSERT_FALSE(syscall_class_name(c).empty()) << c;
    names.emplace(syscall_class_name(c));
  }
  EXPECT_EQ(names.size(), kSyscallClasses);
  EXPECT_EQ(syscall_class_name(kSyscallClasses), "");
  // Every histogram key of the kernel map fits its size.
  EXPECT_EQ(bw_syscall_key(BW_MAX_WORKLOADS - 1, BW_SC_OTHER) + 1, BW_SYSCALL_HISTS);
}

struct PerCpu {  // the layout of bw_syscall_hist / bw_disk_hist
  std::uint64_t slots[BW_LATENCY_SLOTS];
  std::uint64_t sum_ns;
};

TEST(KernelHistogram, SumsCpusAndTheWindowGetsTheDelta) {
  PerCpu a{}, b{};
  a.slots[3] = 2;  // 3 µs
  a.sum_ns = 6'000;
  b.slots[3] = 1;
  b.slots[latency_slot(50'000'000)] = 4;  // 50 ms
  b.sum_ns = 3'000 + 200'000'000;
  KernelHistogram before;
  before.add(a);
  KernelHistogram now = before;
  now.add(b);
  EXPECT_EQ(now.count(), 7u);
  auto window = window_delta(now, before);
  ASSERT_TRUE(window);
  const LatencyHistogram& h = *window;
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.slots[3], 1u);
  EXPECT_DOUBLE_EQ(h.sum_seconds, 0.200003);
  auto p95 = histogram_quantile(h, 0.95);
  ASSERT_TRUE(p95);
  EXPECT_NEAR(*p95, 0.05, 0.05 * 0.07);
  ASSERT_TRUE(window_delta(now, now));
  EXPECT_EQ(window_delta(now, now)->count(), 0u);
}

// The entry was zeroed (id reused) and counted 3 since: what it counted is only part of
// the window, so the window gets no value; the next one diffs from the new reading
// (collectors/counter_delta.hpp).
TEST(KernelHistogram, ACounterThatWentBackwardsGivesNoValue) {
  PerCpu a{};
  a.slots[10] = 100;
  a.sum_ns = 1'000'000;
  KernelHistogram before;
  before.add(a);
  PerCpu fresh{};
  fresh.slots[12] = 3;
  fresh.sum_ns = 30'000;
  KernelHistogram now;
  now.add(fresh);
  EXPECT_FALSE(window_delta(now, before));
  KernelHistogram next = now;
  next.add(fresh);
  auto h = window_delta(next, now);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->count(), 3u);
  EXPECT_EQ(h->slots[12], 3u);
  EXPECT_DOUBLE_EQ(h->sum_seconds, 30e-6);
}

}  // namespace
}  // namespace boundwise::ebpf
