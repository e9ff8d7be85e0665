// The off-CPU sampler (what it does: offcpu_sampler.hpp).
#include "collectors/stacks/offcpu_sampler.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string_view>

#include "classifier/endpoint.hpp"
#include "classifier/profile.hpp"
#include "collectors/process/process_images.hpp"
#include "collectors/procfs/attribution.hpp"
#include "collectors/procfs/parse.hpp"
#include "collectors/procfs/proc_io.hpp"
#include "collectors/procfs/process_sockets.hpp"
#include "collectors/stacks/perf_sample.hpp"

namespace boundwise::stacks {

namespace {

// How often a process's outbound connections are listed again, in rounds (a poll or
// epoll wait counts as net when the process has some: the procfs collector's rule).
constexpr std::uint64_t kOutboundRefreshRounds = 4;

std::optional<std::string> read_small(int dirfd, const std::string& path) {
  procfs::Fd fd(::openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return std::nullopt;
  std::string buf(4096, '\0');
  ssize_t n = ::read(fd.get(), buf.data(), buf.size());
  if (n < 0) return std::nullopt;
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

std::optional<procfs::SchedStat> read_schedstat(int dirfd, int tid) {
  auto text = read_small(dirfd, "task/" + std::to_string(tid) + "/schedstat");
  if (!text) return std::nullopt;
  auto parsed = procfs::parse_schedstat(*text);
  if (!parsed) return std::nullopt;
  return *parsed;
}

bool same(const procfs::SchedStat& a, const procfs::SchedStat& b) {
  return a.run_ns == b.run_ns && a.wait_ns == b.wait_ns && a.timeslices == b.timeslices;
}

// The top `bytes` of the stack at `sp`, page by page: process_vm_readv stops at the
// first page that is not mapped (the stack's end), and what it read before counts.
std::vector<std::byte> copy_stack(int pid, std::uint64_t sp, std::size_t bytes) {
  std::vector<std::byte> out(bytes);
  const std::uint64_t page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  std::vector<iovec> remote;
  std::uint64_t at = sp;
  std::size_t left = bytes;
  while (left > 0) {
    const std::size_t n = std::min<std::uint64_t>(left, page - (at % page));
    remote.push_back({reinterpret_cast<void*>(at), n});  // NOLINT(performance-no-int-to-ptr)
    at += n;
    left -= n;
  }
  iovec local{out.data(), out.size()};
  ssize_t n = ::process_vm_readv(pid, &local, 1, remote.data(), remote.size(), 0);
  out.resize(n > 0 ? static_cast<std::size_t>(n) & ~std::size_t{7} : 0);
  return out;
}

struct Candidate {
  ProcessKey key;
  int tid = 0;
  procfs::SchedStat before;
  procfs::SyscallState syscall;
  procfs::Attribution wait;
};

}  // namespace

struct OffCpuSampler::State {
  struct Process {
    procfs::Fd dir;
    std::unique_ptr<procfs::ProcessSockets> sockets;
    std::optional<process::GilLocation> gil;
  };

  std::string proc_root;
  std::size_t stack_bytes = 0;
  std::size_t max_threads = 0;
  std::shared_ptr<process::ProcessImages> images;
  std::vector<DependencyRule> dependencies;
  std::map<ProcessKey, Process> processes;
  std::size_t cursor = 0;  // where the next round starts, over all targets' threads
  std::uint64_t round = 0;

  Process* process(const ProcessKey& key) {
    auto it = processes.find(key);
    if (it != processes.end()) return it->second.dir.ok() ? &it->second : nullptr;
    Process p;
    p.dir = procfs::Fd(::open((proc_root + "/" + std::to_string(key.pid)).c_str(),
                              O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    int dir = p.dir.get();
    p.sockets = std::make_unique<procfs::ProcessSockets>(key.pid, [dir] { return dir; });
    if (images) {
      if (auto gil = images->gil(key); gil.ok()) p.gil = *gil;
    }
    auto& kept = processes.emplace(key, std::move(p)).first->second;
    return kept.dir.ok() ? &kept : nullptr;
  }

  // The thread's wait, when it is blocked; nullopt when it runs or is gone.
  std::optional<Candidate> examine(const ProcessKey& key, Process& p, int tid) {
    Candidate c{key, tid, {}, {}, {}};
    auto before = read_schedstat(p.dir.get(), tid);
    if (!before) return std::nullopt;
    c.before = *before;
    auto stat_text = read_small(p.dir.get(), "task/" + std::to_string(tid) + "/stat");
    if (!stat_text) return std::nullopt;
    auto stat = procfs::parse_stat(*stat_text);
    if (!stat || stat->state == 'R' || stat->state == 'Z' || stat->state == 'X') {
      return std::nullopt;
    }
    auto sys_text = read_small(p.dir.get(), "task/" + std::to_string(tid) + "/syscall");
    if (!sys_text) return std::nullopt;
    auto sys = procfs::parse_syscall(*sys_text);
    if (!sys || sys->running || sys->stack_pointer == 0) return std::nullopt;
    c.syscall = *sys;
    c.wait = procfs::attribute(stat->state, c.syscall, false, p.gil,
                               [&](int fd) { return p.sockets->resolve(fd, round); });
    if (c.wait.multiplexed && !c.wait.event_loop) {
      // A poll over one socket (libpq's, a blocking client's) is a wait on that socket:
      // the procfs collector's narrow_poll.
      if (auto only = p.sockets->poll_target(c.syscall, round)) {
        procfs::SyscallState as_recv;
        as_recv.number = 45;  // recvfrom
        c.wait = procfs::attribute('S', as_recv, false, std::nullopt, [&](int) { return *only; });
      }
    }
    if (c.wait.multiplexed) {
      const auto& outbound = p.sockets->outbound(round, kOutboundRefreshRounds);
      if (!outbound.empty()) {
        c.wait.reason = Reason::net;
        if (outbound.size() == 1) c.wait.endpoint = outbound.front();
      }
    }
    return c;
  }

  // Futex waits: lock when two or more of the visited threads of one process wait on
  // the same word, idle for a lone waiter (procfs_sampling.cpp, settle_futex_waits).
  static void settle_futex_waits(std::vector<Candidate>& found) {
    std::map<std::pair<ProcessKey, std::uint64_t>, int> waiters;
    for (const auto& c : found) {
      if (c.wait.reason == Reason::lock && c.wait.futex_address != 0) {
        ++waiters[{c.key, c.wait.futex_address}];
      }
    }
    for (auto& c : found) {
      if (c.wait.reason == Reason::lock && c.wait.futex_address != 0 &&
          waiters[{c.key, c.wait.futex_address}] < 2) {
        c.wait.reason = Reason::idle;
      }
    }
  }
};

OffCpuSampler::OffCpuSampler(std::string proc_root, std::size_t stack_bytes,
                             std::size_t max_threads,
                             std::shared_ptr<process::ProcessImages> images,
                             std::vector<DependencyRule> dependencies)
    : state_(std::make_unique<State>()) {
  state_->dependencies = std::move(dependencies);
  state_->proc_root = std::move(proc_root);
  state_->stack_bytes = stack_bytes & ~std::size_t{7};
  state_->max_threads = std::max<std::size_t>(1, max_threads);
  state_->images = std::move(images);
}

OffCpuSampler::~OffCpuSampler() = default;

void OffCpuSampler::round(const std::map<ProcessKey, Target>& targets, double interval_seconds,
                          const std::function<void(OffCpuStack)>& emit,
                          std::map<std::string, std::uint64_t>& failures) {
  State& s = *state_;
  ++s.round;
  for (auto it = s.processes.begin(); it != s.processes.end();) {
    it = targets.count(it->first) == 0 ? s.processes.erase(it) : std::next(it);
  }
  std::vector<std::pair<const ProcessKey*, int>> all;
  for (const auto& [key, target] : targets) {
    for (int tid : target.tids) all.emplace_back(&key, tid);
  }
  if (all.empty()) return;
  const std::size_t visit = std::min(s.max_threads, all.size());
  const std::size_t start = s.cursor % all.size();
  s.cursor = start + visit;
  // Each visited thread stands for all.size() / visit threads.
  const double scale = static_cast<double>(all.size()) / static_cast<double>(visit);
  const auto weight_ms =
      static_cast<std::uint64_t>(std::max(1.0, std::round(interval_seconds * 1000.0 * scale)));

  std::vector<Candidate> found;
  for (std::size_t i = 0; i < visit; ++i) {
    const auto& [key, tid] = all[(start + i) % all.size()];
    State::Process* p = s.process(*key);
    if (p == nullptr) continue;
    if (auto c = s.examine(*key, *p, tid)) found.push_back(*c);
  }
  State::settle_futex_waits(found);

  for (const auto& c : found) {
    if (c.wait.reason == Reason::idle || c.wait.reason == Reason::on_cpu ||
        c.wait.reason == Reason::runqueue) {
      continue;
    }
    State::Process* p = s.process(c.key);
    if (p == nullptr) continue;
    auto stack = copy_stack(c.key.pid, c.syscall.stack_pointer, s.stack_bytes);
    if (stack.empty()) {
      ++failures["stack_read_failed"];
      continue;
    }
    auto after = read_schedstat(p->dir.get(), c.tid);
    if (!after || !same(c.before, *after)) {
      ++failures["thread_ran"];
      continue;
    }
    PerfSample sample;
    sample.pid = static_cast<std::uint32_t>(c.key.pid);
    sample.tid = static_cast<std::uint32_t>(c.tid);
    sample.has_user_regs = true;
    sample.regs[reg_index(kPerfRegSp)] = c.syscall.stack_pointer;
    sample.regs[reg_index(kPerfRegIp)] = c.syscall.program_counter;
    sample.stack = stack;
    OffCpuStack out;
    out.key = c.key;
    out.workload = targets.at(c.key).workload;
    out.reason_frame =
        reason_frame(c.wait.reason, c.wait.reason == Reason::net && c.wait.endpoint
                                        ? dependency_name(*c.wait.endpoint, s.dependencies)
                                        : std::string());
    out.weight_ms = weight_ms;
    out.record = build_sample(sample);
    emit(std::move(out));
  }
}

}  // namespace boundwise::stacks
