// The stacks collector's unwinding thread: the CPU-heavy half of a sample (unwinding,
// naming frames, folding) off the agent's collection thread, which only drains the perf
// rings and hands each sample record over. One thread; a bounded queue (a record that
// finds it full is dropped and counted as "overloaded"); the results (folded stacks per
// workload, the cumulative cost) are taken by the collection thread at each window
// close. For CPython processes it also reads each sampled thread's Python frames and
// splices them into the native stack (python_splice.hpp), and answers GIL probes: who
// holds the GIL, with that thread's Python frames. Owns everything it reads while unwinding (the
// processes' maps, the ELF image cache, the unwinder), so nothing but the queue and the results is
// shared.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "classifier/profile.hpp"
#include "collectors/stacks/kernel_symbols.hpp"
#include "collectors/targets.hpp"

namespace boundwise::stacks {

class UnwindWorker {
 public:
  // `proc_root`: where each process's maps and files are read; `max_queue`: records
  // waiting at most.
  UnwindWorker(std::string proc_root, KernelSymbols kernel, std::size_t max_queue);
  ~UnwindWorker();  // stops the thread; records still queued are dropped
  UnwindWorker(const UnwindWorker&) = delete;
  UnwindWorker& operator=(const UnwindWorker&) = delete;

  // Any thread. A PERF_RECORD_SAMPLE body of process `key` (of `workload`); false when
  // the queue is full (the record is dropped).
  bool post_sample(const ProcessKey& key, const std::string& workload,
                   std::span<const std::byte> record);
  // Any thread. An off-CPU stack (offcpu_sampler.hpp): `record` as built by
  // build_sample(), folded under `root_frame` (its reason) with `weight`; false when the
  // queue is full.
  bool post_offcpu(const ProcessKey& key, const std::string& workload, std::string root_frame,
                   std::uint64_t weight, std::vector<std::byte> record);
  // Any thread. Process `key` is CPython (`runtime`: _PyRuntime's address, version
  // major.minor): its samples get their Python frames (python_splice.hpp).
  void post_python(const ProcessKey& key, std::uint64_t runtime, int major, int minor);
  // Any thread. Who holds process `key`'s GIL now: the holder's Python frames are
  // counted once in the GIL profile of `workload` (nothing when the GIL is free).
  bool post_gil_probe(const ProcessKey& key, const std::string& workload);
  // Any thread. Read process `key`'s maps again (it may have exec'ed, mapped files).
  void post_refresh(const ProcessKey& key);
  // Any thread. Forget process `key` (no longer a target).
  void post_retire(const ProcessKey& key);

  struct Results {
    std::map<std::string, FoldedStacks> stacks;     // since the last take(), by workload
    std::map<std::string, FoldedStacks> offcpu;     // the same, off-CPU stacks
    std::map<std::string, FoldedStacks> gil;        // the same, the GIL holder's stacks
    double seconds = 0;                             // cumulative CPU time of the thread's work
    std::map<std::string, std::uint64_t> failures;  // cumulative, by cause
  };
  // Any thread. The stacks folded since the last call, and the cumulative cost.
  Results take();

 private:
  struct Job {
    enum class Kind { kSample, kOffCpu, kRefresh, kRetire, kPython, kGilProbe };
    Kind kind = Kind::kSample;
    ProcessKey key;
    std::string workload;
    std::vector<std::byte> record;
    std::string root_frame;  // kOffCpu: the reason frame
    std::uint64_t weight = 1;
    std::uint64_t runtime = 0;  // kPython
    int major = 0, minor = -1;  // kPython
  };
  struct State;  // the thread's own (unwind_worker.cpp)

  bool post(Job job);
  void run();

  std::unique_ptr<State> state_;
  std::size_t max_queue_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stop_ = false;
  Results results_;  // under mutex_
  std::thread thread_;
};

}  // namespace boundwise::stacks
