// The stacks collector's view of a target's code: its file-backed mappings and, per
// mapped file, the ELF image (elf_image.hpp: segments, call-frame tables, function
// symbols) read once per (device, inode) whoever maps it, through the safe opening of
// collectors/process/mapped_file.hpp. Bounded: the cache holds images of at most
// `max_bytes` in all, least recently used evicted first; a file that could not be read
// is remembered as unreadable (not retried while it is cached).
//
// Thread-safety: none; used on the collection thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "collectors/process/elf_image.hpp"
#include "collectors/process/mapped_file.hpp"

namespace boundwise::stacks {

using ObjectKey = std::pair<std::uint64_t, std::uint64_t>;  // device, inode

class ObjectCache {
 public:
  explicit ObjectCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  // The image of the file mapped as `m` in the process at `proc_dir` ("/proc/1234"),
  // read now if not cached; null when it cannot be read or is not an ELF file.
  std::shared_ptr<const process::ElfImage> image(const std::string& proc_dir,
                                                 const process::Mapping& m, bool is_executable);
  std::size_t bytes() const { return bytes_; }
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::shared_ptr<const process::ElfImage> image;  // null: unreadable
    std::size_t bytes = 0;
    std::list<ObjectKey>::iterator lru;
  };
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::map<ObjectKey, Entry> entries_;
  std::list<ObjectKey> lru_;  // most recently used first
};

// One process's file-backed mappings, each resolved to its image and load bias on
// first use.
class ProcessView {
 public:
  struct Region {
    process::Mapping mapping;
    bool resolved = false;
    std::shared_ptr<const process::ElfImage> image;  // null: no usable image
    std::uint64_t bias = 0;                          // process address - link address
  };

  ProcessView(std::string proc_dir, std::string exe_path)
      : proc_dir_(std::move(proc_dir)), exe_path_(std::move(exe_path)) {}
  // Reads /proc/PID/maps again; false when it is gone or empty (the process exited).
  bool refresh();
  // The region holding `address`, resolved, or nullptr.
  const Region* find(std::uint64_t address, ObjectCache& cache);
  bool empty() const { return regions_.empty(); }

 private:
  std::string proc_dir_;
  std::string exe_path_;
  std::vector<Region> regions_;  // sorted by start
};

}  // namespace boundwise::stacks
