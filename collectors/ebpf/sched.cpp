#include "collectors/ebpf/sched.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <ctime>
#include <string>

#include "collectors/ebpf/bpf_util.hpp"
#include "collectors/ebpf/sched.skel.h"

namespace boundwise::ebpf {

std::uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

Result<std::unique_ptr<SchedTool>> SchedTool::load() {
  route_libbpf_log();
  sched_bpf* skel = sched_bpf__open();
  if (skel == nullptr) return Error{describe_failure("sched: open BPF object", errno)};
  if (int err = sched_bpf__load(skel); err != 0) {
    sched_bpf__destroy(skel);
    return Error{describe_failure("sched: load BPF programs", err)};
  }
  if (int err = sched_bpf__attach(skel); err != 0) {
    sched_bpf__destroy(skel);
    return Error{describe_failure("sched: attach to scheduler tracepoints", err)};
  }
  return std::unique_ptr<SchedTool>(new SchedTool(skel));
}

SchedTool::SchedTool(sched_bpf* skel) : skel_(skel), ncpus_(libbpf_num_possible_cpus()) {
  if (ncpus_ < 1) ncpus_ = 1;
}

SchedTool::~SchedTool() { sched_bpf__destroy(skel_); }

// The bitmap lives in the mmapped .bss; the kernel's fork program sets bits in the
// same words, hence atomic read-modify-writes on both sides.
void SchedTool::mark(int tgid, std::uint32_t wid) {
  auto key = static_cast<std::uint32_t>(tgid);
  bpf_map__update_elem(skel_->maps.bw_target_workload, &key, sizeof key, &wid, sizeof wid, BPF_ANY);
  auto& word = skel_->bss->bw_target_bits[(key >> 6) & (BW_TARGET_WORDS - 1)];
  __atomic_fetch_or(&word, 1ULL << (key & 63), __ATOMIC_SEQ_CST);
}

void SchedTool::unmark(int tgid) {
  auto key = static_cast<std::uint32_t>(tgid);
  auto& word = skel_->bss->bw_target_bits[(key >> 6) & (BW_TARGET_WORDS - 1)];
  __atomic_fetch_and(&word, ~(1ULL << (key & 63)), __ATOMIC_SEQ_CST);
  bpf_map__delete_elem(skel_->maps.bw_target_workload, &key, sizeof key, 0);
}

std::vector<std::pair<int, std::uint32_t>> SchedTool::targets() const {
  std::vector<std::pair<int, std::uint32_t>> out;
  const bpf_map* map = skel_->maps.bw_target_workload;
  std::uint32_t key = 0;
  std::uint32_t next = 0;
  const void* prev = nullptr;
  while (bpf_map__get_next_key(map, prev, &next, sizeof next) == 0) {
    std::uint32_t wid = 0;
    if (bpf_map__lookup_elem(map, &next, sizeof next, &wid, sizeof wid, 0) == 0) {
      out.emplace_back(static_cast<int>(next), wid);
    }
    key = next;
    prev = &key;
  }
  return out;
}

void SchedTool::seed_thread(int tid, std::uint32_t wid, std::uint32_t state,
                            std::uint64_t since_ns) {
  auto key = static_cast<std::uint32_t>(tid);
  bw_thread t{};
  t.since_ns = since_ns;
  t.state = state;
  t.workload = wid;
  // BPF_NOEXIST: the kernel's own record, if the thread switched meanwhile, wins.
  bpf_map__update_elem(skel_->maps.bw_threads, &key, sizeof key, &t, sizeof t, BPF_NOEXIST);
}

SchedCounters SchedTool::counters(std::uint32_t wid) const {
  SchedCounters out;
  std::vector<bw_sched_stats> per_cpu(static_cast<std::size_t>(ncpus_));
  if (bpf_map__lookup_elem(skel_->maps.bw_sched_stats, &wid, sizeof wid, per_cpu.data(),
                           per_cpu.size() * sizeof(bw_sched_stats), 0) != 0) {
    return out;
  }
  std::uint64_t sum_ns = 0;
  for (const auto& s : per_cpu) {
    for (int i = 0; i < BW_OFFCPU_STATES; ++i)
      out.offcpu_ns[i] += static_cast<double>(s.offcpu_ns[i]);
    for (std::size_t i = 0; i < kLatencySlots; ++i) out.runqueue.slots[i] += s.runq_slots[i];
    sum_ns += s.runq_sum_ns;
  }
  out.runqueue.sum_seconds = static_cast<double>(sum_ns) / 1e9;
  return out;
}

void SchedTool::close_window(std::uint64_t window_start_ns, std::uint64_t now_ns,
                             std::map<std::uint32_t, OffCpuNs>& open_segments) {
  // The kernel clips from the new start as soon as it is written: first the new
  // start, then the walk, so a segment ending during the walk is not counted twice
  // (it may be missed by the walk's few microseconds instead).
  skel_->bss->window_start_ns = now_ns;
  const bpf_map* map = skel_->maps.bw_threads;
  std::uint32_t key = 0;
  std::uint32_t next = 0;
  const void* prev = nullptr;
  while (bpf_map__get_next_key(map, prev, &next, sizeof next) == 0) {
    bw_thread t{};
    if (bpf_map__lookup_elem(map, &next, sizeof next, &t, sizeof t, 0) == 0 && t.since_ns != 0 &&
        t.state < BW_OFFCPU_STATES && t.since_ns < now_ns) {
      std::uint64_t from = t.since_ns > window_start_ns ? t.since_ns : window_start_ns;
      if (now_ns > from) open_segments[t.workload][t.state] += static_cast<double>(now_ns - from);
    }
    key = next;
    prev = &key;
  }
}

std::vector<std::pair<std::string, int>> SchedTool::programs() const {
  std::vector<std::pair<std::string, int>> out;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, skel_->obj) {
    out.emplace_back(bpf_program__name(prog), bpf_program__fd(prog));
  }
  return out;
}

}  // namespace boundwise::ebpf
