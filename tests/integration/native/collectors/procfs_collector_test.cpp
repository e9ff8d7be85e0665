// The procfs collector against real child processes of the test: each child blocks
// in one known way, and after a window the collector must account its time to the
// right reason (and endpoint). No privilege needed: the children are ours. The window
// is a real measurement (1.2-1.5 s sampled at 50 Hz); a child is observed only once it
// is blocked where the test put it, polled for, not guessed with a sleep.
#include "collectors/procfs/procfs_collector.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "classifier/assemble/assemble.hpp"
#include "collectors/procfs/parse.hpp"
#include "tests/lib/child_process.hpp"
#include "tests/lib/wait_until.hpp"

namespace boundwise {
namespace {

using namespace std::chrono_literals;
using test::Child;

ProcessKey key_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::ostringstream s;
  s << in.rdbuf();
  auto stat = procfs::parse_stat(s.str());
  return ProcessKey{pid, stat ? stat->start_time_ticks : 0};
}

// Reads /proc/PID/task/TID/stat's state letter for every thread of `pid`.
std::vector<char> thread_states(pid_t pid) {
  std::vector<char> out;
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::ostringstream text;
    text << in.rdbuf();
    auto stat = procfs::parse_stat(text.str());
    if (stat) out.push_back(stat->state);
  }
  return out;
}

// True once `pid` has `threads` threads, each asleep in the kernel (S or D): the child
// has reached the call it blocks in.
bool blocked(pid_t pid, std::size_t threads) {
  auto states = thread_states(pid);
  return states.size() == threads &&
         std::all_of(states.begin(), states.end(), [](char s) { return s == 'S' || s == 'D'; });
}

// True once `pid`'s main thread has a child (/proc/PID/task/PID/children).
bool has_children(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::string first;
  return static_cast<bool>(in >> first);
}

struct Run {
  std::map<std::string, WorkloadWindow> windows;  // assembled from procfs's evidence alone
  const WorkloadWindow& w(const std::string& name) const { return windows.at(name); }
};

// An evidence set with one entry per workload, as the daemon makes at a window close.
EvidenceSet evidence_for(const std::vector<std::string>& names) {
  EvidenceSet e;
  for (const auto& name : names) e.workloads[name].workload = name;
  return e;
}

// Samples the given workloads for `duration` at 50 Hz and closes one window.
Run observe(const std::vector<std::pair<std::string, pid_t>>& targets,
            std::chrono::milliseconds duration, std::vector<DependencyRule> rules = {}) {
  CollectorSettings settings;
  settings.sample_rate_hz = 50;
  auto collector = make_procfs_collector(settings);
  EXPECT_TRUE(collector->start().ok());
  TargetSet set;
  Run run;
  std::vector<std::string> names;
  for (const auto& [name, pid] : targets) {
    set.workloads.push_back(TargetWorkload{name, {key_of(pid)}, {}});
    names.push_back(name);
  }
  collector->set_targets(set);
  // A first window closes right away, as the daemon's would: the measured window then
  // starts at a boundary and does not include the time set_targets took (locating
  // each interpreter's GIL).
  EvidenceSet first = evidence_for(names);
  const auto boundary = std::chrono::steady_clock::now();
  collector->contribute(boundary, first);
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < duration) {
    EXPECT_TRUE(collector->sample(std::chrono::steady_clock::now()).ok());
    std::this_thread::sleep_for(collector->period());
  }
  auto end = std::chrono::steady_clock::now();
  EvidenceSet evidence = evidence_for(names);
  collector->contribute(end, evidence);
  for (auto& [name, e] : evidence.workloads) {
    // From the boundary the collector was given, not from when contribute() returned:
    // on a loaded machine the two are far apart.
    e.duration_seconds = std::chrono::duration<double>(end - boundary).count();
  }
  run.windows = assemble(evidence, AssembleRules{std::move(rules), 10});
  return run;
}

double share(const WorkloadWindow& w, Reason r) {
  double total = w.total_thread_seconds();
  return total > 0 ? w.thread_seconds[index_of(r)] / total : 0;
}

// Share of the time off CPU and off the run queue.
double off_cpu_share(const WorkloadWindow& w, Reason r) {
  double off = w.total_thread_seconds() - w.thread_seconds[index_of(Reason::on_cpu)] -
               w.thread_seconds[index_of(Reason::runqueue)];
  return off > 0 ? w.thread_seconds[index_of(r)] / off : 0;
}

TEST(ProcfsCollector, EachChildIsAttributedToWhatItWaitsOn) {
  Child sleeper([] {
    while (true) std::this_thread::sleep_for(10ms);
  });
  Child spinner([] {
    volatile unsigned long x = 0;
    while (true) x = x + 1;
  });
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  Child reader([&] {
    char c;
    while (true) (void)!::read(pipefd[0], &c, 1);
  });
  Child locker([] {
    std::mutex m;
    std::vector<std::thread> waiters;
    m.lock();  // never released: every waiter queues on the same futex word
    for (int i = 0; i < 3; ++i) waiters.emplace_back([&] { std::lock_guard<std::mutex> g(m); });
    while (true) std::this_thread::sleep_for(1s);
  });
  ASSERT_TRUE(test::wait_until(
      [&] {
        return blocked(sleeper.pid(), 1) && blocked(reader.pid(), 1) && blocked(locker.pid(), 4);
      },
      5s))
      << "the children never reached their blocking calls";
  auto run = observe({{"sleeper", sleeper.pid()},
                      {"spinner", spinner.pid()},
                      {"reader", reader.pid()},
                      {"locker", locker.pid()}},
                     1500ms);
  // Off CPU, the sleeper sleeps (on a loaded machine it also queues for a core).
  EXPECT_GT(off_cpu_share(run.w("sleeper"), Reason::sleep), 0.9);
  EXPECT_GT(share(run.w("spinner"), Reason::on_cpu) + share(run.w("spinner"), Reason::runqueue),
            0.9);
  EXPECT_GT(run.w("spinner").cpu_seconds, 0.25);  // at least a share of one of two cores
  // A reader that never wakes is parked: idle, whatever it waits on.
  EXPECT_GT(share(run.w("reader"), Reason::idle) + share(run.w("reader"), Reason::ipc), 0.9);
  const auto& locker_w = run.w("locker");
  EXPECT_EQ(locker_w.threads, 4);
  // Three threads queue on one mutex (lock, or idle if parked) and one sleeps.
  EXPECT_GT(share(locker_w, Reason::lock) + share(locker_w, Reason::idle), 0.7);
  for (const auto& name : {"sleeper", "spinner", "reader", "locker"}) {
    const auto& w = run.w(name);
    // Every thread-second of the window is accounted once.
    EXPECT_NEAR(w.total_thread_seconds() / (w.threads * w.duration_seconds), 1.0, 0.1) << name;
  }
}

TEST(ProcfsCollector, WokenPipeReaderIsIpcAndEpollMarksAnEventLoop) {
  int data[2];
  ASSERT_EQ(::pipe(data), 0);
  // Woken every 30 ms, so not parked: its off-CPU time is the read on the pipe.
  Child reader([&] {
    char c;
    while (::read(data[0], &c, 1) == 1) {
    }
  });
  Child writer([&] {
    while (::write(data[1], "x", 1) == 1) std::this_thread::sleep_for(30ms);
  });
  int quiet[2];
  ASSERT_EQ(::pipe(quiet), 0);
  Child loop([&] {
    int ep = ::epoll_create1(0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = quiet[0];
    ::epoll_ctl(ep, EPOLL_CTL_ADD, quiet[0], &ev);
    epoll_event out[4];
    while (true) ::epoll_wait(ep, out, 4, -1);
  });
  Child parent([] {
    pid_t kid = ::fork();
    if (kid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // dies with the parent when the test kills it
      while (true) ::pause();
    }
    ::waitpid(kid, nullptr, 0);
  });
  ASSERT_TRUE(test::wait_until(
      [&] {
        return blocked(reader.pid(), 1) && blocked(loop.pid(), 1) && blocked(parent.pid(), 1) &&
               has_children(parent.pid());
      },
      5s))
      << "the children never reached their blocking calls";
  auto run =
      observe({{"reader", reader.pid()}, {"loop", loop.pid()}, {"parent", parent.pid()}}, 1200ms);
  EXPECT_GT(off_cpu_share(run.w("reader"), Reason::ipc), 0.8);
  EXPECT_EQ(run.w("reader").parked_threads, 0);
  EXPECT_GT(run.w("reader").voluntary_switches, 10u);
  const auto& loop_w = run.w("loop");
  EXPECT_TRUE(loop_w.event_loop);
  EXPECT_GT(share(loop_w, Reason::idle), 0.9);  // no outbound connections
  EXPECT_FALSE(run.w("reader").event_loop);
  // A parent in wait4 is idle: its child's time is the child's (not a target here).
  EXPECT_GT(share(run.w("parent"), Reason::idle), 0.9);
  EXPECT_EQ(run.w("parent").pids, std::vector<int>{parent.pid()});
  EXPECT_EQ(run.w("parent").processes, 1);
  ::close(data[0]);
  ::close(data[1]);
  ::close(quiet[0]);
  ::close(quiet[1]);
}

TEST(ProcfsCollector, SocketWaitHasEndpointAndIntervals) {
  int server = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(server, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(server, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  // The server answers every request after 100 ms.
  std::thread responder([&] {
    int c = ::accept(server, nullptr, nullptr);
    char buf[16];
    while (::read(c, buf, sizeof buf) > 0) {
      std::this_thread::sleep_for(100ms);
      if (::write(c, "x", 1) != 1) break;
    }
    ::close(c);
  });
  Child client([&] {
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ::_exit(1);
    char c;
    while (::write(s, "q", 1) == 1 && ::read(s, &c, 1) == 1) {
    }
  });
  auto rule = DependencyRule::parse("test-server", "127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(rule);
  auto run = observe({{"client", client.pid()}}, 1500ms, {*rule});
  const auto& w = run.w("client");
  EXPECT_GT(off_cpu_share(w, Reason::net), 0.8);
  ASSERT_EQ(w.dependencies.size(), 1u);
  const auto& d = w.dependencies[0];
  EXPECT_EQ(d.name, "test-server");
  EXPECT_EQ(d.endpoint, "127.0.0.1:" + std::to_string(port));
  EXPECT_GT(d.wait_seconds, 1.0);
  ASSERT_TRUE(d.latency);
  EXPECT_NEAR(d.latency->p50, 0.1, 0.045);  // resolution: the 20 ms sampling interval
  EXPECT_EQ(w.established_connections, 1);
  client.stop();
  ::shutdown(server, SHUT_RDWR);
  ::close(server);
  responder.join();
}

TEST(ProcfsCollector, AServerWaitingOnItsClientsHasNoDependencies) {
  // A thread-per-connection server whose client is connected and quiet: its thread
  // blocks reading the accepted connection. The client is not a dependency of the
  // server, and the server is idle, not network-bound.
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  Child server([&] {
    int l = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (::bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(l, 8) != 0 ||
        ::getsockname(l, reinterpret_cast<sockaddr*>(&a), &n) != 0) {
      ::_exit(1);
    }
    if (::write(ready[1], &a, sizeof a) != sizeof a) ::_exit(1);
    int c = ::accept(l, nullptr, nullptr);
    if (::write(ready[1], "a", 1) != 1) ::_exit(1);  // accepted: next, the read blocks
    char b;
    while (::read(c, &b, 1) > 0) {
    }
    ::_exit(0);
  });
  sockaddr_in addr{};
  ASSERT_EQ(::read(ready[0], &addr, sizeof addr), static_cast<ssize_t>(sizeof addr));
  int client = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  char accepted;
  ASSERT_EQ(::read(ready[0], &accepted, 1), 1);
  ASSERT_TRUE(test::wait_until([&] { return blocked(server.pid(), 1); }, 5s))
      << "the server never blocked reading its client";
  auto run = observe({{"server", server.pid()}}, 1200ms);
  const auto& w = run.w("server");
  EXPECT_TRUE(w.dependencies.empty()) << w.dependencies.size() << " dependencies, the first "
                                      << (w.dependencies.empty() ? "" : w.dependencies[0].name);
  EXPECT_GT(share(w, Reason::idle), 0.8);
  EXPECT_LT(off_cpu_share(w, Reason::net), 0.1);
  ::close(client);
  ::close(ready[0]);
  ::close(ready[1]);
}

// The files this process has open now.
std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Threads that do not run keep one file open each (schedstat, which says whether they
// ran), not three: their stat and syscall are closed once they are found unchanged
// (each open procfs file holds a page of kernel memory charged to the agent's cgroup).
TEST(ProcfsCollector, AThreadThatDoesNotRunKeepsOneFileOpen) {
  constexpr std::size_t kThreads = 100;  // 3 files each: under half a 1 024-fd limit
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  Child sleepers([&] {
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        char c = 0;
        [[maybe_unused]] auto n = ::read(pipe_fds[0], &c, 1);  // blocks: nothing is written
      });
    }
    for (auto& t : threads) t.join();
  });
  ::close(pipe_fds[0]);
  ASSERT_TRUE(test::wait_until([&] { return blocked(sleepers.pid(), kThreads + 1); }, 10s));
  const std::size_t before = open_fds();
  CollectorSettings settings;
  settings.sample_rate_hz = 50;
  auto collector = make_procfs_collector(settings);
  ASSERT_TRUE(collector->start().ok());
  collector->set_targets(TargetSet{{TargetWorkload{"sleepers", {key_of(sleepers.pid())}, {}}}});
  ASSERT_TRUE(collector->sample(std::chrono::steady_clock::now()).ok());
  // The first round reads each blocked thread's schedstat, stat and syscall.
  const std::size_t first = open_fds() - before;
  EXPECT_GE(first, 3 * (kThreads + 1));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(collector->sample(std::chrono::steady_clock::now()).ok());
  const std::size_t later = open_fds() - before;
  // One per thread plus /proc/PID and the collector's own (proc root); a thread woken
  // by the machine's load in between may hold its three again.
  EXPECT_GE(later, kThreads + 1);
  EXPECT_LE(later, kThreads + 1 + 10) << "first round " << first;
  ::close(pipe_fds[1]);
}

TEST(ProcfsCollector, TargetExitingMidWindowAndReusedPid) {
  auto collector_settings = CollectorSettings{};
  auto collector = make_procfs_collector(collector_settings);
  ASSERT_TRUE(collector->start().ok());
  Child doomed([] {
    while (true) std::this_thread::sleep_for(10ms);
  });
  ProcessKey key = key_of(doomed.pid());
  // A key with the right pid but another start time is a different process.
  ProcessKey stale{doomed.pid(), key.start_time_ticks + 1};
  EvidenceSet evidence = evidence_for({"doomed", "stale"});
  collector->set_targets(
      TargetSet{{TargetWorkload{"doomed", {key}, {}}, TargetWorkload{"stale", {stale}, {}}}});
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(collector->sample(std::chrono::steady_clock::now()).ok());
    std::this_thread::sleep_for(10ms);
  }
  doomed.stop();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(collector->sample(std::chrono::steady_clock::now()).ok());
  }
  collector->contribute(std::chrono::steady_clock::now(), evidence);
  auto windows = assemble(evidence, {});
  EXPECT_EQ(windows["doomed"].processes, 0);  // gone at window end
  EXPECT_GT(windows["doomed"].thread_seconds[index_of(Reason::sleep)], 0.0);
  EXPECT_EQ(windows["stale"].total_thread_seconds(), 0.0);
  EXPECT_EQ(windows["stale"].processes, 0);
}

}  // namespace
}  // namespace boundwise
