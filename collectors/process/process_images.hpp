// The agent's one cache of what a process's image says: whether it is CPython, its
// version and its GIL's address range (gil_locator.hpp). Reading the image means
// opening and parsing the interpreter's ELF file (tens of MB, sometimes hundreds of
// ms), and three collectors want the answer for every new process: procfs (GIL waits
// from futex addresses), python (runtime detection) and the ebpf sched tool (the GIL
// range in the kernel). The daemon creates one ProcessImages and hands it to all of
// them in CollectorSettings::process_images, so each process's ELF is read once.
//
// Thread-safety: none. All collectors run on the agent's collection thread (its
// io_context; the HTTP thread never reaches them); the cache must only be used from
// that thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "classifier/result.hpp"
#include "collectors/collector.hpp"
#include "collectors/process/gil_locator.hpp"
#include "collectors/targets.hpp"

namespace boundwise::process {

// Device and inode of the file a process executes (/proc/PID/exe). exec() keeps the
// pid and the start time (the ProcessKey) but normally changes this.
using ExeIdentity = std::pair<std::uint64_t, std::uint64_t>;

// The identity of /proc/PID/exe under `proc_root`; nullopt when it cannot be stat'ed
// (the process is gone, a kernel thread, or not ours to see).
std::optional<ExeIdentity> exe_identity(const std::string& proc_root, int pid);

class ProcessImages {
 public:
  using GilResult = Result<std::optional<GilLocation>>;
  // How an image is read: locate_gil() in the agent; tests pass a counting wrapper.
  using Reader = std::function<GilResult(const std::string& proc_root, int pid)>;

  // `proc_root` must be the one the collectors read (CollectorSettings::proc_root).
  explicit ProcessImages(std::string proc_root, Reader reader = locate_gil);

  // What locate_gil(proc_root, key.pid) says about process `key`: read at the first
  // lookup of this identity, then the same answer (an Error included: a file that
  // could not be read is not tried again for the same process) without touching the
  // ELF again. One stat of /proc/PID/exe per lookup detects an exec: a process that
  // now runs another executable than at the read is read again.
  GilResult gil(const ProcessKey& key);

  // Forgets every process that is not in `targets` (call from set_targets(): the
  // cache then holds at most one entry per current target).
  void retain(const TargetSet& targets);
  void retain(const std::set<ProcessKey>& keep);

  std::size_t size() const { return entries_.size(); }
  const std::string& proc_root() const { return proc_root_; }

 private:
  struct Entry {
    std::optional<ExeIdentity> exe;  // at the read
    GilResult gil;
  };
  std::string proc_root_;
  Reader reader_;
  std::map<ProcessKey, Entry> entries_;
};

// A copy of `settings` whose process_images is set: the one given (the daemon's,
// shared), else a new cache of its own for settings.proc_root (a collector built
// alone, as in unit tests). Collectors keep this copy as their settings.
CollectorSettings with_process_images(const CollectorSettings& settings);

}  // namespace boundwise::process
