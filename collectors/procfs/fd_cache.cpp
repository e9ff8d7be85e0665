// The bounded LRU of kept-open procfs files.
#include "collectors/procfs/fd_cache.hpp"

#include <unistd.h>

#include <algorithm>

namespace boundwise::procfs {

FdCache::FdCache(std::size_t capacity) : capacity_(std::max<std::size_t>(2, capacity)) {}

FdCache::~FdCache() {
  for (const auto& e : lru_) ::close(e.fd);
}

int FdCache::get(const FileKey& key, const std::function<int()>& open) {
  if (auto it = entries_.find(key); it != entries_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->fd;
  }
  int fd = open();
  if (fd < 0) return -1;
  while (entries_.size() >= capacity_) {
    ++evictions_;
    close_entry(std::prev(lru_.end()));
  }
  lru_.push_front(Entry{key, fd});
  entries_.emplace(key, lru_.begin());
  return fd;
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
