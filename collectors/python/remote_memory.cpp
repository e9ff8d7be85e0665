// process_vm_readv and the fake image. errno mapping: ESRCH = the target exited;
// EPERM/EACCES = no ptrace rights; EFAULT/partial reads = an address not mapped.
#include "collectors/python/remote_memory.hpp"

#include <sys/uio.h>

#include <cerrno>
#include <cstdio>

namespace boundwise::python {

namespace {

std::string where(pid_t pid, std::uint64_t address, std::size_t size) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "process_vm_readv pid %d [0x%llx+%zu)", static_cast<int>(pid),
                static_cast<unsigned long long>(address), size);
  return buf;
}

}  // namespace

bool ProcessMemory::read(std::uint64_t address, void* out, std::size_t size, ReadError& error) {
  iovec local{out, size};
  // An address in the target process, never dereferenced here.
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  iovec remote{reinterpret_cast<void*>(address), size};
  ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(size)) return true;
  if (n >= 0) {
    error = {ReadFailure::bad_address, where(pid_, address, size) + ": partial read"};
    return false;
  }
  int e = errno;
  error.failure = e == ESRCH                  ? ReadFailure::gone
                  : e == EPERM || e == EACCES ? ReadFailure::denied
                                              : ReadFailure::bad_address;
  error.message = where(pid_, address, size) + ": " + std::strerror(e);
  return false;
}

void FakeMemory::write(std::uint64_t address, const std::vector<std::uint8_t>& bytes) {
  auto it = regions_.upper_bound(address);
  if (it != regions_.begin()) {
    auto& [start, region] = *std::prev(it);
    if (address >= start && address + bytes.size() <= start + region.size()) {
      std::memcpy(region.data() + (address - start), bytes.data(), bytes.size());
      return;
    }
  }
  regions_[address] = bytes;
}

bool FakeMemory::read(std::uint64_t address, void* out, std::size_t size, ReadError& error) {
  if (gone_ || reads_left_ == 0) {
    gone_ = true;
    error = {ReadFailure::gone, where(1, address, size) + ": No such process (fake)"};
    return false;
  }
  auto it = regions_.upper_bound(address);
  if (it != regions_.begin()) {
    const auto& [start, region] = *std::prev(it);
    // Written so that an address near 2^64 cannot wrap around into the region.
    if (address >= start && size <= region.size() && address - start <= region.size() - size) {
      std::memcpy(out, region.data() + (address - start), size);
      ++reads_;
      if (reads_left_ > 0) --reads_left_;
      return true;
    }
  }
  error = {ReadFailure::bad_address, where(1, address, size) + ": Bad address (fake)"};
  return false;
}

}  // namespace boundwise::python
