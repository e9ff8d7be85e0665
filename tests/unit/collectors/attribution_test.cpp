// The attribution rules, case by case (docs/COLLECTORS.md).
#include "collectors/procfs/attribution.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace boundwise::procfs {
namespace {

using process::GilLocation;

SyscallState call(long nr, std::uint64_t a0 = 0, std::uint64_t a1 = 0) {
  SyscallState s;
  s.number = nr;
  s.args[0] = a0;
  s.args[1] = a1;
  return s;
}

FdInfo connected(const char* endpoint, std::uint64_t inode) {
  FdInfo f;
  f.kind = FdInfo::Kind::inet_connected;
  f.inode = inode;
  f.remote = *Endpoint::parse(endpoint);
  return f;
}

FdInfo of_kind(FdInfo::Kind k) {
  FdInfo f;
  f.kind = k;
  return f;
}

Attribution blocked(const SyscallState& s, FdInfo fd = {}, std::optional<GilLocation> gil = {}) {
  return attribute('S', s, false, gil, [&](int) { return fd; });
}

TEST(Attribution, RunningIsOnCpu) {
  EXPECT_EQ(attribute('R', call(0), false, {}, nullptr).reason, Reason::on_cpu);
}

TEST(Attribution, FutexOnGilIsGilElseLock) {
  GilLocation gil;
  gil.begin = 0x1000;
  gil.end = 0x1000 + 208;
  EXPECT_EQ(blocked(call(202, 0x1048), {}, gil).reason, Reason::gil);
  auto other = blocked(call(202, 0x2000), {}, gil);
  EXPECT_EQ(other.reason, Reason::lock);
  EXPECT_EQ(other.futex_address, 0x2000u);
  EXPECT_EQ(blocked(call(202, 0x1000 + 208), {}, gil).reason, Reason::lock);  // end is exclusive
  EXPECT_EQ(blocked(call(202, 0x1048)).reason, Reason::lock);                 // no GIL known
}

TEST(Attribution, SocketReadsAreNetWithEndpoint) {
  auto a = blocked(call(45, 7), connected("10.0.0.5:5432", 99));
  EXPECT_EQ(a.reason, Reason::net);
  ASSERT_TRUE(a.endpoint);
  EXPECT_EQ(a.endpoint->to_string(), "10.0.0.5:5432");
  EXPECT_EQ(a.wait_object, 99u);
  for (long nr : {0L, 1L, 19L, 20L, 42L, 44L, 46L, 47L}) {
    EXPECT_EQ(blocked(call(nr, 3), connected("10.0.0.5:5432", 1)).reason, Reason::net) << nr;
  }
}

TEST(Attribution, FdKindsDecideTheReason) {
  EXPECT_EQ(blocked(call(43, 3), of_kind(FdInfo::Kind::inet_listening)).reason, Reason::idle);
  // A server reading from a client it accepted waits for the next request; writing,
  // for a slow client. Neither names the client as an endpoint.
  for (long read_nr : {0L, 45L, 47L}) {
    auto a = blocked(call(read_nr, 3), of_kind(FdInfo::Kind::inet_accepted));
    EXPECT_EQ(a.reason, Reason::idle) << read_nr;
    EXPECT_FALSE(a.endpoint) << read_nr;
  }
  for (long write_nr : {1L, 44L, 46L}) {
    auto a = blocked(call(write_nr, 3), of_kind(FdInfo::Kind::inet_accepted));
    EXPECT_EQ(a.reason, Reason::net) << write_nr;
    EXPECT_FALSE(a.endpoint) << write_nr;
  }
  EXPECT_EQ(blocked(call(0, 3), of_kind(FdInfo::Kind::pipe)).reason, Reason::ipc);
  EXPECT_EQ(blocked(call(0, 3), of_kind(FdInfo::Kind::unix_socket)).reason, Reason::ipc);
  EXPECT_EQ(blocked(call(288, 3), of_kind(FdInfo::Kind::unix_socket)).reason, Reason::idle);
  EXPECT_EQ(blocked(call(1, 3), of_kind(FdInfo::Kind::file)).reason, Reason::disk);
  EXPECT_EQ(blocked(call(0, 3), of_kind(FdInfo::Kind::other)).reason, Reason::other);
}

TEST(Attribution, SleepsAndMultiplexedWaits) {
  EXPECT_EQ(blocked(call(35)).reason, Reason::sleep);
  EXPECT_EQ(blocked(call(230)).reason, Reason::sleep);
  EXPECT_EQ(blocked(call(270, 0)).reason, Reason::sleep);  // pselect6 with nfds = 0 (3.9 sleep)
  EXPECT_EQ(blocked(call(7, 0x7ff0, 0)).reason, Reason::sleep);  // poll with nfds = 0
  auto poll = blocked(call(7, 0x7ff0, 3));
  EXPECT_TRUE(poll.multiplexed);
  EXPECT_FALSE(poll.event_loop);
  auto epoll = blocked(call(232, 5));
  EXPECT_TRUE(epoll.multiplexed);
  EXPECT_TRUE(epoll.event_loop);
  EXPECT_EQ(epoll.reason, Reason::idle);  // until the caller finds outbound connections
}

TEST(Attribution, DiskPagingChildrenAndOther) {
  EXPECT_EQ(blocked(call(74, 3)).reason, Reason::disk);  // fsync
  EXPECT_EQ(blocked(call(75, 3)).reason, Reason::disk);  // fdatasync
  EXPECT_EQ(attribute('D', call(-1), false, {}, nullptr).reason, Reason::disk);
  EXPECT_EQ(attribute('D', call(0, 3), true, {}, nullptr).reason, Reason::paging);
  EXPECT_EQ(blocked(call(61)).reason, Reason::idle);  // wait4
  EXPECT_EQ(blocked(call(999)).reason, Reason::other);
  EXPECT_EQ(blocked(call(-1)).reason, Reason::other);
}

TEST(Attribution, AbsurdFdIsNotResolved) {
  bool called = false;
  auto a = attribute('S', call(0, ~0ull), false, {}, [&](int) {
    called = true;
    return FdInfo{};
  });
  EXPECT_FALSE(called);
  EXPECT_EQ(a.reason, Reason::other);
}

double sum(const PerReason<double>& s) {
  double total = 0;
  for (double v : s) total += v;
  return total;
}

double at(const ThreadSeconds& t, Reason r) { return t.seconds[index_of(r)]; }

ThreadWindow exact(double lifetime, double run, double queue) {
  ThreadWindow t;
  t.lifetime_seconds = lifetime;
  t.run_seconds = run;
  t.queue_seconds = queue;
  t.period_seconds = 0.2;
  return t;
}

TEST(SplitThreadTime, OffCpuIsSplitOverBlockedSamples) {
  ThreadWindow t = exact(1.0, 0.2, 0.1);
  t.blocked_samples = 4;
  t.reason_samples[index_of(Reason::net)] = 3;
  t.reason_samples[index_of(Reason::disk)] = 1;
  auto out = split_thread_time(t);
  EXPECT_DOUBLE_EQ(at(out, Reason::on_cpu), 0.2);
  EXPECT_DOUBLE_EQ(at(out, Reason::runqueue), 0.1);
  EXPECT_NEAR(out.off_cpu, 0.7, 1e-12);
  EXPECT_NEAR(at(out, Reason::net), 0.525, 1e-12);
  EXPECT_NEAR(at(out, Reason::disk), 0.175, 1e-12);
  EXPECT_NEAR(sum(out.seconds), 1.0, 1e-12);  // the lifetime, accounted once
}

TEST(SplitThreadTime, OffCpuWithoutBlockedSamplesIsOther) {
  ThreadWindow t = exact(2.0, 0.5, 0.0);
  t.running_samples = 3;
  auto out = split_thread_time(t);
  EXPECT_DOUBLE_EQ(at(out, Reason::on_cpu), 0.5);
  EXPECT_DOUBLE_EQ(at(out, Reason::other), 1.5);
  EXPECT_EQ(out.off_cpu, 0.0);  // nothing for dependencies
}

TEST(SplitThreadTime, ParkedThreadIsIdleForItsLifetime) {
  ThreadWindow t = exact(1.0, 0.0, 0.0);
  t.parked = true;
  t.blocked_samples = 5;
  t.reason_samples[index_of(Reason::ipc)] = 5;
  auto out = split_thread_time(t);
  EXPECT_DOUBLE_EQ(at(out, Reason::idle), 1.0);
  EXPECT_EQ(at(out, Reason::ipc), 0.0);
  EXPECT_DOUBLE_EQ(sum(out.seconds), 1.0);
  EXPECT_EQ(out.off_cpu, 0.0);
}

TEST(SplitThreadTime, RunAboveLifetimeGivesNoNegativeOffCpu) {
  // schedstat and the wall clock are read at slightly different instants.
  ThreadWindow t = exact(1.0, 0.98, 0.05);
  t.blocked_samples = 1;
  t.reason_samples[index_of(Reason::lock)] = 1;
  auto out = split_thread_time(t);
  EXPECT_EQ(out.off_cpu, 0.0);
  for (double v : out.seconds) EXPECT_GE(v, 0.0);
}

TEST(SplitThreadTime, WithoutSchedstatSamplesTimesPeriod) {
  ThreadWindow t;
  t.lifetime_seconds = 5;  // not used: the thread exited, only its samples count
  t.period_seconds = 0.2;
  t.running_samples = 2;
  t.blocked_samples = 3;
  t.reason_samples[index_of(Reason::sleep)] = 3;
  auto out = split_thread_time(t);
  EXPECT_NEAR(at(out, Reason::on_cpu), 0.4, 1e-12);
  EXPECT_NEAR(at(out, Reason::sleep), 0.6, 1e-12);
  EXPECT_NEAR(sum(out.seconds), 1.0, 1e-12);
}

TEST(SplitThreadTime, BadInputsCountAsZero) {
  ThreadWindow t = exact(std::numeric_limits<double>::quiet_NaN(), -1.0,
                         std::numeric_limits<double>::infinity());
  t.blocked_samples = 2;
  t.reason_samples[index_of(Reason::net)] = 2;
  auto out = split_thread_time(t);
  for (double v : out.seconds) {
    EXPECT_TRUE(std::isfinite(v));
    EXPECT_GE(v, 0.0);
  }
  EXPECT_EQ(sum(out.seconds), 0.0);
}

}  // namespace
}  // namespace boundwise::procfs
