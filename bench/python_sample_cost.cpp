// Cost of one python-collector sample: starts a real CPython process with N threads
// of pure Python (default 50, all competing for the GIL, so it is locked and changes
// holder between samples: the costly path), sets up the reader exactly as the
// collector's detect() does (locate_gil → _Py_DebugOffsets or the table →
// GilReader::open), then times many samples of what the collector's sample() does for
// one process: the thread-id relist of /proc/PID/task every kRelistEvery rounds and
// GilReader::sample (all memory reads). Prints median, p99 and max in µs, and the
// number of process_vm_readv calls per sample. Needs ptrace rights on its own child
// (root, or Yama ptrace_scope ≤ 1). Run by hand; results in docs/BENCHMARKS.md.
//
// usage: python_sample_cost [--python PATH] [--threads 50] [--samples 5000]
//                           [--interval-us 2000]
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "collectors/process/gil_locator.hpp"
#include "collectors/procfs/proc_io.hpp"
#include "collectors/python/gil_reader.hpp"
#include "collectors/python/remote_memory.hpp"

namespace {

using namespace boundwise;
using Clock = std::chrono::steady_clock;

// Same value as PythonCollector::kRelistEvery (private to python_collector.cpp): the
// collector re-reads /proc/PID/task every 8 rounds.
constexpr std::uint64_t kRelistEvery = 8;

// Counts the reads the reader makes; one extra virtual call (a few ns) per read on
// top of ProcessMemory's syscall (µs), so it does not change the timing.
class CountingMemory final : public python::RemoteMemory {
 public:
  explicit CountingMemory(python::RemoteMemory& inner) : inner_(inner) {}
  bool read(std::uint64_t address, void* out, std::size_t size, python::ReadError& error) override {
    ++reads;
    bytes += size;
    return inner_.read(address, out, size, error);
  }
  std::uint64_t reads = 0;
  std::uint64_t bytes = 0;

 private:
  python::RemoteMemory& inner_;
};

// The same relist as the collector's task_ids(): list_numeric over /proc/PID/task.
std::set<int> task_ids(int pid) {
  std::set<int> out;
  int dir = ::open(("/proc/" + std::to_string(pid)).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return out;
  for (int tid : procfs::list_numeric(dir, "task")) out.insert(tid);
  ::close(dir);
  return out;
}

// The target: `threads` pure-Python spinners; prints "ready" once all have started.
// Dies with this process (PR_SET_PDEATHSIG), so an aborted run leaves nothing behind.
pid_t start_target(const std::string& python, int threads, int& ready_fd) {
  const std::string script =
      "import sys, threading\n"
      "def spin():\n"
      "    x = 0\n"
      "    while True:\n"
      "        x += 1\n"
      "for _ in range(" +
      std::to_string(threads) +
      "):\n"
      "    threading.Thread(target=spin, daemon=True).start()\n"
      "print('ready', flush=True)\n"
      "threading.Event().wait()\n";
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(python.c_str(), python.c_str(), "-c", script.c_str(), static_cast<char*>(nullptr));
    std::perror("execl");
    std::_Exit(127);
  }
  ::close(fds[1]);
  ready_fd = fds[0];
  return pid;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(std::lround(p * static_cast<double>(v.size() - 1)));
  return v[std::min(i, v.size() - 1)];
}

std::string default_python() {
  // pyenv 3.12.1, as in the task's benchmark; --python overrides.
  const char* home = std::getenv("PYENV_ROOT");
  std::string root = home != nullptr ? home : std::string(std::getenv("HOME")) + "/.pyenv";
  return root + "/versions/3.12.1/bin/python3";
}

struct Options {
  std::string python = default_python();
  int threads = 50;
  int samples = 5000;
  int interval_us = 2000;
};

// nullopt (and a message) on an unknown option.
std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--python")
      o.python = argv[i + 1];
    else if (a == "--threads")
      o.threads = std::atoi(argv[i + 1]);
    else if (a == "--samples")
      o.samples = std::atoi(argv[i + 1]);
    else if (a == "--interval-us")
      o.interval_us = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return std::nullopt;
    }
  }
  return o;
}

// What the timed loop saw.
struct Measured {
  std::vector<double> memory_us;  // GilReader::sample alone
  std::vector<double> round_us;   // plus the periodic /proc/PID/task relist
  std::uint64_t reads = 0;
  std::uint64_t bytes = 0;
  std::uint64_t locked = 0;
  std::uint64_t with_holder = 0;
  std::uint64_t walks = 0;
};

// The timed loop: one sampling round every interval_us, as the python collector's.
// nullopt (and a message) when a sample fails.
std::optional<Measured> measure(python::GilReader& reader, CountingMemory& memory, pid_t pid,
                                std::set<int>& tids, const Options& o) {
  Measured m;
  m.memory_us.reserve(o.samples);
  m.round_us.reserve(o.samples);
  const std::uint64_t reads_before = memory.reads;
  const std::uint64_t bytes_before = memory.bytes;
  for (int i = 1; i <= o.samples; ++i) {
    auto t0 = Clock::now();
    if (i % kRelistEvery == 0) tids = task_ids(pid);
    auto t1 = Clock::now();
    std::uint64_t reads = memory.reads;
    python::GilSample s;
    std::string why;
    auto outcome = reader.sample(memory, tids, s, &why);
    auto t2 = Clock::now();
    if (outcome != python::SampleOutcome::ok) {
      std::fprintf(stderr, "sample %d failed: %s\n", i, why.c_str());
      return std::nullopt;
    }
    if (memory.reads - reads > 1) ++m.walks;  // the holder was unmapped: thread-list walk
    m.locked += s.locked ? 1 : 0;
    m.with_holder += s.holder_tid ? 1 : 0;
    m.memory_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
    m.round_us.push_back(std::chrono::duration<double, std::micro>(t2 - t0).count());
    std::this_thread::sleep_for(std::chrono::microseconds(o.interval_us));
  }
  m.reads = memory.reads - reads_before;
  m.bytes = memory.bytes - bytes_before;
  return m;
}

void print_report(const Options& o, const process::GilLocation& py, std::size_t tasks,
                  const Measured& m) {
  const double n = o.samples;
  std::printf("target: %s (CPython %s), %d pure-Python threads, %zu tasks\n", o.python.c_str(),
              py.version.c_str(), o.threads, tasks);
  std::printf(
      "samples: %d, %d us apart; GIL locked in %.1f%%, holder mapped in %.1f%%, "
      "thread-list walks %llu\n",
      o.samples, o.interval_us, 100.0 * static_cast<double>(m.locked) / n,
      100.0 * static_cast<double>(m.with_holder) / n, static_cast<unsigned long long>(m.walks));
  std::printf("reads per sample: %.3f (%.1f bytes)\n", static_cast<double>(m.reads) / n,
              static_cast<double>(m.bytes) / n);
  std::printf("GilReader::sample (memory reads):     median %.2f us  p99 %.2f us  max %.2f us\n",
              percentile(m.memory_us, 0.5), percentile(m.memory_us, 0.99),
              percentile(m.memory_us, 1.0));
  std::printf("+ /proc/PID/task relist every %llu:    median %.2f us  p99 %.2f us  max %.2f us\n",
              static_cast<unsigned long long>(kRelistEvery), percentile(m.round_us, 0.5),
              percentile(m.round_us, 0.99), percentile(m.round_us, 1.0));
}

int run(int argc, char** argv) {
  auto options = parse_options(argc, argv);
  if (!options) return 2;
  const Options& o = *options;
  int ready_fd = -1;
  pid_t pid = start_target(o.python, o.threads, ready_fd);
  if (pid < 0) return 1;
  char buf[16] = {};
  if (::read(ready_fd, buf, sizeof buf - 1) <= 0 || std::strncmp(buf, "ready", 5) != 0) {
    std::fprintf(stderr, "%s did not start\n", o.python.c_str());
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return 1;
  }
  auto kill_target = [&] {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  };

  // Set-up as in PythonCollector::detect (untimed: once per discovered process).
  auto located = process::locate_gil("/proc", pid);
  if (!located || !*located || (*located)->runtime_address == 0) {
    std::fprintf(stderr, "pid %d: not a CPython with a known _PyRuntime: %s\n", pid,
                 located ? "no _PyRuntime" : located.error().message.c_str());
    kill_target();
    return 1;
  }
  const process::GilLocation& py = **located;
  python::ProcessMemory process_memory(pid);
  CountingMemory memory(process_memory);
  std::set<int> tids = task_ids(pid);
  std::optional<python::PythonLayout> layout;
  auto header = python::read_debug_offsets(memory, py.runtime_address);
  if (header && header->has_value()) layout = (*header)->layout;
  if (!layout) layout = python::table_layout(py.major, py.minor);
  if (!layout) {
    std::fprintf(stderr, "no GIL layout for CPython %s\n", py.version.c_str());
    kill_target();
    return 1;
  }
  auto reader = python::GilReader::open(memory, py.runtime_address, *layout, tids);
  if (!reader) {
    std::fprintf(stderr, "GilReader::open: %s\n", reader.error().message.c_str());
    kill_target();
    return 1;
  }

  auto measured = measure(*reader, memory, pid, tids, o);
  kill_target();
  if (!measured) return 1;
  print_report(o, py, tids.size(), *measured);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return run(argc, argv); }
