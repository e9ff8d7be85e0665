// Reading another process's memory, behind an interface so that the interpreter
// reader (gil_reader.hpp) runs in tests against a fake image built from recorded
// bytes. The real implementation uses process_vm_readv: read-only, the target is
// never stopped (a sample is as consistent as one syscall on one range makes it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "classifier/result.hpp"

namespace boundwise::python {

// Why a read failed, for the caller's policy: a gone target is skipped quietly, a
// denied read means "memory not readable" (no CAP_SYS_PTRACE), anything else is a
// bad address (a wrong layout: validation fails).
enum class ReadFailure { gone, denied, bad_address };

struct ReadError {
  ReadFailure failure = ReadFailure::bad_address;
  std::string message;  // "process_vm_readv pid 42 [0x7f..+72): No such process"
};

class RemoteMemory {
 public:
  virtual ~RemoteMemory() = default;
  // Reads exactly `size` bytes at `address` into `out`; false and `error` otherwise.
  virtual bool read(std::uint64_t address, void* out, std::size_t size, ReadError& error) = 0;

  template <class T>
  bool read_value(std::uint64_t address, T& out, ReadError& error) {
    return read(address, &out, sizeof out, error);
  }
};

// process_vm_readv on one process. Needs PTRACE_MODE_ATTACH rights on the target
// (root, CAP_SYS_PTRACE, or the same user under Yama scope 0).
class ProcessMemory final : public RemoteMemory {
 public:
  explicit ProcessMemory(pid_t pid) : pid_(pid) {}
  bool read(std::uint64_t address, void* out, std::size_t size, ReadError& error) override;

 private:
  pid_t pid_;
};

// A memory image of recorded regions, for tests. A read must fall inside one region;
// after vanish() every read fails as `gone` (the target exited).
class FakeMemory final : public RemoteMemory {
 public:
  void add(std::uint64_t address, std::vector<std::uint8_t> bytes) {
    regions_[address] = std::move(bytes);
  }
  template <class T>
  void put(std::uint64_t address, const T& value) {
    std::vector<std::uint8_t> bytes(sizeof value);
    std::memcpy(bytes.data(), &value, sizeof value);
    write(address, bytes);
  }
  // Overwrites bytes inside a region, or adds a region for them.
  void write(std::uint64_t address, const std::vector<std::uint8_t>& bytes);
  void vanish() { gone_ = true; }
  // Vanishes after `reads` more successful reads (an exit in the middle of a walk).
  void vanish_after(int reads) { reads_left_ = reads; }
  int reads() const { return reads_; }
  bool read(std::uint64_t address, void* out, std::size_t size, ReadError& error) override;

 private:
  std::map<std::uint64_t, std::vector<std::uint8_t>> regions_;
  bool gone_ = false;
  int reads_left_ = -1;
  int reads_ = 0;
};

}  // namespace boundwise::python
