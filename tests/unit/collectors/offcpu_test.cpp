// Off-CPU stacks (collectors/stacks/offcpu_sampler.hpp) on this test process itself: a
// thread of its own blocked in a pipe read under a known chain is found blocked, its
// wait attributed to ipc, its stack copied with process_vm_readv and unwound by the
// unwinding thread under the [ipc] root frame, the chain named in order. Reading one's
// own /proc/self/task/TID/syscall and memory needs no privilege.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "collectors/stacks/kernel_symbols.hpp"
#include "collectors/stacks/offcpu_sampler.hpp"
#include "collectors/stacks/perf_sample.hpp"
#include "collectors/stacks/unwind_worker.hpp"

namespace boundwise::offcpu_test {

volatile long sink;

__attribute__((noinline)) long blocked_read(int fd) {
  char c = 0;
  long n = ::read(fd, &c, 1);
  sink = n;
  return n + c;
}

__attribute__((noinline)) long blocked_caller(int fd) {
  long r = blocked_read(fd);
  sink = r;
  return r ^ fd;
}

}  // namespace boundwise::offcpu_test

namespace boundwise::stacks {
namespace {

ProcessKey self_key() {
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) rest >> field;  // field 22: starttime
  return ProcessKey{::getpid(), std::stoull(field)};
}

// A thread blocked in read(2) on a pipe until the write end is written.
class BlockedThread {
 public:
  BlockedThread() {
    EXPECT_EQ(::pipe(fds_), 0);
    thread_ = std::thread([this] {
      tid_ = ::gettid();
      offcpu_test::blocked_caller(fds_[0]);
    });
    // Until it sleeps in read: its syscall file names read (0).
    for (int i = 0; i < 500; ++i) {
      if (tid_ != 0) {
        std::ifstream in("/proc/self/task/" + std::to_string(tid_) + "/syscall");
        std::string nr;
        in >> nr;
        if (nr == "0") return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ADD_FAILURE() << "the thread never blocked in read";
  }
  ~BlockedThread() {
    char c = 'x';
    EXPECT_EQ(::write(fds_[1], &c, 1), 1);
    thread_.join();
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int tid() const { return tid_; }

 private:
  int fds_[2] = {-1, -1};
  std::atomic<int> tid_{0};
  std::thread thread_;
};

TEST(PerfSample, BuiltRecordsParseBack) {
  std::vector<std::byte> stack(64);
  for (std::size_t i = 0; i < stack.size(); ++i) stack[i] = static_cast<std::byte>(i);
  PerfSample s;
  s.pid = 7;
  s.tid = 8;
  s.time_ns = 9;
  s.kernel_ips = {0xffffffff81000010};
  s.has_user_regs = true;
  s.regs[reg_index(kPerfRegSp)] = 0x7ffd0000;
  s.regs[reg_index(kPerfRegIp)] = 0x401000;
  s.stack = stack;
  auto bytes = build_sample(s);
  auto back = parse_sample(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->pid, 7u);
  EXPECT_EQ(back->tid, 8u);
  EXPECT_EQ(back->kernel_ips, s.kernel_ips);
  EXPECT_TRUE(back->has_user_regs);
  EXPECT_EQ(back->regs, s.regs);
  ASSERT_EQ(back->stack.size(), 64u);
  EXPECT_EQ(back->stack[63], std::byte{63});
  PerfSample empty;  // no registers, no stack
  auto none = parse_sample(build_sample(empty));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_user_regs);
  EXPECT_TRUE(none->stack.empty());
}

TEST(OffCpuSampler, ABlockedPipeReadIsAnIpcStackNamingItsChain) {
  BlockedThread blocked;
  ASSERT_NE(blocked.tid(), 0);
  const ProcessKey key = self_key();
  // This (running) thread and the blocked one; running threads are never copied.
  std::map<ProcessKey, OffCpuSampler::Target> targets{
      {key, {"self", {static_cast<int>(::gettid()), blocked.tid()}}}};
  OffCpuSampler sampler("/proc", 16384, 64, nullptr);
  std::vector<OffCpuStack> found;
  std::map<std::string, std::uint64_t> failures;
  // The blocked thread may be seen waking (a spurious wake-up): a few rounds at most.
  for (int i = 0; i < 5 && found.empty(); ++i) {
    sampler.round(
        targets, 0.5, [&](OffCpuStack s) { found.push_back(std::move(s)); }, failures);
  }
  ASSERT_EQ(found.size(), 1u) << "failures: " << failures.size();
  EXPECT_EQ(found[0].reason_frame, "[ipc]");
  EXPECT_EQ(found[0].workload, "self");
  EXPECT_EQ(found[0].weight_ms, 500u);
  auto sample = parse_sample(found[0].record);
  ASSERT_TRUE(sample.ok());
  EXPECT_EQ(sample->tid, static_cast<std::uint32_t>(blocked.tid()));
  EXPECT_GT(sample->stack.size(), 256u);

  // Unwound on the unwinding thread: [ipc], then the chain root first.
  UnwindWorker worker("/proc", KernelSymbols{}, 16);
  ASSERT_TRUE(worker.post_offcpu(key, "self", found[0].reason_frame, found[0].weight_ms,
                                 std::move(found[0].record)));
  FoldedStacks stacks;
  for (int i = 0; i < 500 && stacks.samples == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto results = worker.take();
    if (auto it = results.offcpu.find("self"); it != results.offcpu.end()) stacks = it->second;
    EXPECT_TRUE(results.stacks.empty());  // not an on-CPU stack
  }
  ASSERT_EQ(stacks.counts.size(), 1u);
  const std::string& folded = stacks.counts.begin()->first;
  EXPECT_EQ(stacks.samples, 500u);
  EXPECT_EQ(folded.rfind("[ipc];", 0), 0u) << folded;
#if defined(__SANITIZE_ADDRESS__)
  // Measured: under ASan the unwinding stops in the sanitizer's read() interceptor, and
  // through syscall(2) instead one frame later, in the instrumented blocked_read —
  // frames of the test build, not of the programs the sampler meets.
  GTEST_SKIP() << "ASan build: the test's own instrumented frames do not unwind remotely "
                  "(the stack ends [partial]); the chain is checked in the plain build and on "
                  "an uninstrumented program by integration.stacks.offcpu_ipc";
#endif
  const auto caller = folded.find("boundwise::offcpu_test::blocked_caller(int);");
  const auto reader = folded.find("boundwise::offcpu_test::blocked_read(int)");
  EXPECT_NE(caller, std::string::npos) << folded;
  EXPECT_NE(reader, std::string::npos) << folded;
  EXPECT_LT(caller, reader) << folded;
}

TEST(OffCpuSampler, VisitsAtMostItsCapPerRoundAndWeighsTheOthersIn) {
  BlockedThread a;
  BlockedThread b;
  const ProcessKey key = self_key();
  std::map<ProcessKey, OffCpuSampler::Target> targets{{key, {"self", {a.tid(), b.tid()}}}};
  OffCpuSampler sampler("/proc", 4096, 1, nullptr);  // one thread per round
  std::map<int, int> seen;
  std::map<std::string, std::uint64_t> failures;
  for (int i = 0; i < 4; ++i) {
    std::vector<OffCpuStack> round;
    sampler.round(
        targets, 0.1, [&](OffCpuStack s) { round.push_back(std::move(s)); }, failures);
    ASSERT_LE(round.size(), 1u);
    for (const auto& s : round) {
      EXPECT_EQ(s.weight_ms, 200u);  // 100 ms, for two threads
      ++seen[static_cast<int>(parse_sample(s.record)->tid)];
    }
  }
  // In turn: both threads, not the first one four times.
  EXPECT_GE(seen[a.tid()], 1);
  EXPECT_GE(seen[b.tid()], 1);
}

TEST(OffCpuSampler, GoneThreadsAndProcessesAreSkipped) {
  OffCpuSampler sampler("/proc", 4096, 8, nullptr);
  std::map<ProcessKey, OffCpuSampler::Target> targets{
      {ProcessKey{999999999, 1}, {"gone", {999999999}}}, {self_key(), {"self", {999999998}}}};
  std::map<std::string, std::uint64_t> failures;
  int stacks = 0;
  sampler.round(
      targets, 0.5, [&](OffCpuStack) { ++stacks; }, failures);
  EXPECT_EQ(stacks, 0);
  sampler.round(
      {}, 0.5, [&](OffCpuStack) { ++stacks; }, failures);  // no targets at all
  EXPECT_EQ(stacks, 0);
}

}  // namespace
}  // namespace boundwise::stacks
