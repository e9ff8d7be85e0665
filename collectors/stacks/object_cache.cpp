// The bounded image cache and a process's regions (contracts in object_cache.hpp).
#include "collectors/stacks/object_cache.hpp"

#include <algorithm>

namespace boundwise::stacks {

std::shared_ptr<const process::ElfImage> ObjectCache::image(const std::string& proc_dir,
                                                            const process::Mapping& m,
                                                            bool is_executable) {
  const ObjectKey key{m.device, m.inode};
  if (auto it = entries_.find(key); it != entries_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return it->second.image;
  }
  std::shared_ptr<const process::ElfImage> image;
  if (auto file = process::open_mapped(proc_dir, m, is_executable)) {
    if (auto read = process::read_elf_image(*file, m.path)) {
      image = std::make_shared<const process::ElfImage>(std::move(*read));
    }
  }
  const std::size_t bytes = image ? image->memory_bytes() : sizeof(Entry);
  while (!lru_.empty() && bytes_ + bytes > max_bytes_) {
    auto victim = entries_.find(lru_.back());
    bytes_ -= victim->second.bytes;
    entries_.erase(victim);
    lru_.pop_back();
  }
  // An image larger than the whole budget is used for this lookup but not kept.
  if (bytes > max_bytes_) return image;
  lru_.push_front(key);
  entries_.emplace(key, Entry{image, bytes, lru_.begin()});
  bytes_ += bytes;
  return image;
}

bool ProcessView::refresh() {
  std::vector<Region> next;
  for (auto& m : process::read_maps(proc_dir_ + "/maps")) {
    Region r;
    r.mapping = std::move(m);
    next.push_back(std::move(r));
  }
  std::sort(next.begin(), next.end(),
            [](const Region& a, const Region& b) { return a.mapping.start < b.mapping.start; });
  regions_ = std::move(next);
  return !regions_.empty();
}

const ProcessView::Region* ProcessView::find(std::uint64_t address, ObjectCache& cache) {
  auto it = std::upper_bound(regions_.begin(), regions_.end(), address,
                             [](std::uint64_t a, const Region& r) { return a < r.mapping.start; });
  if (it == regions_.begin()) return nullptr;
  Region& r = *std::prev(it);
  if (address >= r.mapping.end) return nullptr;
  if (!r.resolved) {
    r.resolved = true;
    r.image = cache.image(proc_dir_, r.mapping, r.mapping.path == exe_path_);
    if (r.image) {
      auto vaddr = r.image->vaddr_of_offset(r.mapping.offset);
      if (r.image->exec) {
        r.bias = 0;
      } else if (vaddr && r.mapping.start >= *vaddr) {
        r.bias = r.mapping.start - *vaddr;
      } else {
        r.image.reset();
      }
    }
  }
  return &r;
}

}  // namespace boundwise::stacks
