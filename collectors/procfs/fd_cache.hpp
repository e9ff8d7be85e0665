// Kept-open procfs files under a bound. Keeping /proc/PID/task/TID/stat and friends
// open makes a sample one pread instead of open+read+close, but a target with
// thousands of threads (or a tree of thousands of processes) would otherwise take one
// fd per file until the agent's open-files limit is gone — and with it the HTTP
// listener's accept() and every other collector's opens. The cache keeps at most
// `capacity` fds and closes the least recently used first; a file not kept is opened
// again at its next read. Each kept file also holds kernel memory charged to the
// agent's memory cgroup, so the capacity comes from a memory budget as well as the fd
// limit (kept_files_capacity).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <unordered_map>

namespace boundwise::procfs {

// Kernel memory one kept-open procfs file holds: its seq_file buffer (a page, allocated
// at the first read and kept until close), the struct file and the seq_file. Measured
// 5.4 KiB per file for task/TID/{schedstat,stat,syscall} on kernel 6.18, cgroup v1
// memory.kmem.usage_in_bytes (docs/BENCHMARKS.md, "What the agent's memory is made
// of"); rounded up.
inline constexpr std::uint64_t kKernelBytesPerKeptFile = 6ull * 1024;
// Kept files may take this share of the agent's memory limit: the rest is for its heap,
// stacks, BPF maps and page cache (under 64 MiB, 16 MiB: about 2 700 files).
inline constexpr std::uint64_t kKeptFilesMemoryShareDivisor = 4;
// Without max_open_files, kept files take at most this much kernel memory (about
// 10 900 files: one per idle thread of 10 000, since the files a thread that did not
// run does not need are closed).
inline constexpr std::uint64_t kDefaultKeptFilesMemory = 64ull << 20;
// Never fewer (a directory and a few files: below that every read reopens).
inline constexpr std::size_t kMinKeptFiles = 16;

// What sizes the cache. Limits absent (nullopt) do not bound it.
struct KeptFilesLimits {
  std::optional<std::uint64_t> open_files;    // the soft RLIMIT_NOFILE
  std::optional<std::uint64_t> memory_bytes;  // the agent's own cgroup memory limit
  std::uint64_t configured = 0;               // max_open_files; 0 = automatic
};

// Which bound set the capacity.
enum class KeptFilesBoundBy { configured, default_memory, open_files, memory_limit };

struct KeptFilesCapacity {
  std::size_t files = 0;
  KeptFilesBoundBy by = KeptFilesBoundBy::configured;
  // The configured value was above what the limits allow and was lowered.
  bool lowered = false;
};

// The files kept open at most: `configured` (or what kDefaultKeptFilesMemory allows
// when it is 0), lowered to half the open-files limit (the other half is for the HTTP
// server, the other collectors and one-read opens) and to what a quarter of the memory
// limit holds at kKernelBytesPerKeptFile; never under kMinKeptFiles. Pure.
KeptFilesCapacity kept_files_capacity(const KeptFilesLimits& limits);

// Which file: tid 0 for a process-level file. `kind` is the caller's own numbering.
// start_time: the process's (ProcessKey), so that a reused PID never finds the files
// kept for the process that had it before.
struct FileKey {
  int pid = 0;
  int tid = 0;
  int kind = 0;
  std::uint64_t start_time = 0;
  bool operator==(const FileKey&) const = default;
};

class FdCache {
 public:
  // capacity: fds kept open at most (at least 2: a directory and a file in it).
  explicit FdCache(std::size_t capacity);
  ~FdCache();
  FdCache(const FdCache&) = delete;
  FdCache& operator=(const FdCache&) = delete;

  // The kept fd for `key`, or, when it is not kept, the fd `open()` returns (kept from
  // now on; the least recently used beyond capacity is closed). -1 when open() fails.
  // The fd stays valid until the next get() or forget(). A template, not a
  // std::function: it runs for every procfs read, and the sampler's capturing openers
  // would cost a heap allocation each.
  template <class Open>
  int get(const FileKey& key, Open&& open) {
    if (int fd = find(key); fd >= 0) return fd;
    int fd = open();
    if (fd >= 0) keep(key, fd);
    return fd;
  }

  // Closes the file if it is kept (its task has gone).
  void forget(const FileKey& key);

  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }
  // fds opened and closed again because the cache was full (an indicator that the
  // bound is below the working set).
  std::uint64_t evictions() const { return evictions_; }

 private:
  struct Hash {
    std::size_t operator()(const FileKey& k) const {
      return std::hash<std::uint64_t>()((static_cast<std::uint64_t>(k.pid) << 32) ^
                                        (static_cast<std::uint64_t>(k.tid) << 4) ^
                                        static_cast<std::uint64_t>(k.kind) ^ (k.start_time << 20));
    }
  };
  struct Entry {
    FileKey key;
    int fd;
  };
  int find(const FileKey& key);           // the kept fd (now most recently used), or -1
  void keep(const FileKey& key, int fd);  // keeps a new fd, closing the LRU beyond capacity
  void close_entry(std::list<Entry>::iterator it);

  std::size_t capacity_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<FileKey, std::list<Entry>::iterator, Hash> entries_;
  std::uint64_t evictions_ = 0;
};

}  // namespace boundwise::procfs
