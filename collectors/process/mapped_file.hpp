// Reading the files a process has mapped without letting the process's owner block or
// fool the agent: its mappings from /proc/PID/maps, and the file behind one mapping,
// opened through the kernel's own references (map_files/, exe) before its name, never
// blocking, and only when it is the regular file maps names (same device and inode).
// Shared by every reader of a target's ELF files (gil_locator.cpp, the stacks
// collector's object cache).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "classifier/result.hpp"
#include "collectors/process/elf_facts.hpp"

namespace boundwise::process {

// An interpreter or a library is tens of MB; a mapped "ELF" larger than this is not
// one the agent reads.
inline constexpr std::uint64_t kMaxElfBytes = std::uint64_t{1} << 30;

// One file-backed line of /proc/PID/maps.
struct Mapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint64_t offset = 0;
  dev_t device = 0;  // of the mapped file, as maps shows it
  ino_t inode = 0;
  bool executable = false;  // 'x' in the permissions
  std::string path;         // as maps shows it, " (deleted)" included
};

// The file-backed mappings (path starting with '/') of a maps file, in its order.
// Lines that do not parse are skipped; an unreadable file gives none.
std::vector<Mapping> read_maps(const std::string& path);

// Hex or decimal text to a number; nullopt on anything else (a fixture or a corrupted
// file must not throw out of the collector).
std::optional<std::uint64_t> to_number(std::string_view text, int base);

// An opened mapped file, read with pread (only what the parser asks for).
class MappedFile final : public ByteSource {
 public:
  MappedFile(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
  ~MappedFile() override;
  MappedFile(MappedFile&& o) noexcept : fd_(std::exchange(o.fd_, -1)), size_(o.size_) {}
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile& operator=(MappedFile&&) = delete;
  std::uint64_t size() const override { return size_; }
  bool read(std::uint64_t offset, void* out, std::size_t n) const override;

 private:
  int fd_;
  std::uint64_t size_;  // at open (fstat)
};

// Opens the file behind mapping `m` of the process whose /proc directory is `base`
// ("/proc/1234"). The path in maps is only a name: the owner may have deleted the file
// and put a FIFO (open() would block for good), a symlink or another file at that
// name. So: map_files/START-END (needs CAP_SYS_ADMIN) first, then exe when
// `is_executable` (the mapping is of /proc/PID/exe's file), the name inside the
// process's root last; every open is non-blocking and does not follow a final symlink,
// and the result must be a regular file of at most kMaxElfBytes with the device and
// inode maps gives. Error: why each way failed.
Result<MappedFile> open_mapped(const std::string& base, const Mapping& m, bool is_executable);

}  // namespace boundwise::process
