// The bounded LRU of kept-open procfs files.
#include "collectors/procfs/fd_cache.hpp"

#include <unistd.h>

#include <algorithm>

namespace boundwise::procfs {

KeptFilesCapacity kept_files_capacity(const KeptFilesLimits& limits) {
  KeptFilesCapacity out;
  std::uint64_t files = limits.configured;
  if (files == 0) {
    files = kDefaultKeptFilesMemory / kKernelBytesPerKeptFile;
    out.by = KeptFilesBoundBy::default_memory;
  }
  const auto lower_to = [&](std::optional<std::uint64_t> bound, KeptFilesBoundBy by) {
    if (!bound) return;
    *bound = std::max<std::uint64_t>(*bound, kMinKeptFiles);
    if (*bound >= files) return;
    out.lowered = out.lowered || limits.configured != 0;
    files = *bound;
    out.by = by;
  };
  lower_to(limits.open_files ? std::optional(*limits.open_files / 2) : std::nullopt,
           KeptFilesBoundBy::open_files);
  lower_to(limits.memory_bytes ? std::optional(*limits.memory_bytes / kKeptFilesMemoryShareDivisor /
                                               kKernelBytesPerKeptFile)
                               : std::nullopt,
           KeptFilesBoundBy::memory_limit);
  out.files = static_cast<std::size_t>(std::max<std::uint64_t>(files, kMinKeptFiles));
  return out;
}

FdCache::FdCache(std::size_t capacity) : capacity_(std::max<std::size_t>(2, capacity)) {}

FdCache::~FdCache() {
  for (const auto& e : lru_) ::close(e.fd);
}

int FdCache::find(const FileKey& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return -1;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->fd;
}

void FdCache::keep(const FileKey& key, int fd) {
  while (entries_.size() >= capacity_) {
    ++evictions_;
    close_entry(std::prev(lru_.end()));
  }
  lru_.push_front(Entry{key, fd});
  entries_.emplace(key, lru_.begin());
}

void FdCache::forget(const FileKey& key) {
  if (auto it = entries_.find(key); it != entries_.end()) close_entry(it->second);
}

void FdCache::close_entry(std::list<Entry>::iterator it) {
  ::close(it->fd);
  entries_.erase(it->key);
  lru_.erase(it);
}

}  // namespace boundwise::procfs
