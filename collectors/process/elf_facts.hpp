// The pure half of the ELF reader: from the bytes of a 64-bit ELF file, the few facts
// the agent needs about a process's image (is it ET_EXEC, where its first PT_LOAD
// segment starts, CPython's `_PyRuntime` symbol and the value of `Py_Version`). No
// file is opened here: the bytes come through a ByteSource, the open file in the agent
// (gil_locator.cpp, which decides which file may be read at all) and a buffer in tests
// and the fuzz target (tests/fuzz/elf_fuzz.cpp). Built on its own as
// boundwise_elf_parse, so the fuzz build needs nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "classifier/result.hpp"

namespace boundwise::process {

// Random access to the bytes of one file.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // The file's size in bytes; nothing past it is ever asked for.
  virtual std::uint64_t size() const = 0;
  // Copies bytes [offset, offset + n) to `out`. False when any of them cannot be
  // read (an I/O error, a short read); the caller has checked the range against size().
  virtual bool read(std::uint64_t offset, void* out, std::size_t n) const = 0;
};

// Reads `count` objects of type T at `offset`, or false when they are not all in the
// file. An empty table is read successfully wherever it claims to be (as a zero-byte
// pread would be).
template <class T>
bool read_table(const ByteSource& f, std::uint64_t offset, std::uint64_t count,
                std::vector<T>& out) {
  out.clear();
  if (count == 0) return true;
  const std::uint64_t size = f.size();
  if (count > size / sizeof(T) || offset > size || count * sizeof(T) > size - offset) {
    return false;
  }
  out.resize(static_cast<std::size_t>(count));
  return f.read(offset, out.data(), out.size() * sizeof(T));
}

// A ByteSource over bytes in memory (not owned: they must outlive the source).
class SpanSource final : public ByteSource {
 public:
  explicit SpanSource(std::span<const std::byte> bytes) : bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  bool read(std::uint64_t offset, void* out, std::size_t n) const override;

 private:
  std::span<const std::byte> bytes_;
};

// Limits on what a file may make the reader allocate and scan. An interpreter's
// tables are far below them; a file beyond them is refused or its table skipped.
inline constexpr std::uint64_t kMaxElfHeaders = 4096;                          // e_phnum, e_shnum
inline constexpr std::uint64_t kMaxElfStringTable = std::uint64_t{64} << 20;   // bytes
inline constexpr std::uint64_t kMaxElfSymbolTable = std::uint64_t{256} << 20;  // bytes

struct ElfFacts {
  bool exec = false;                        // ET_EXEC: loaded at its link addresses (no bias)
  std::uint64_t first_load_vaddr = 0;       // p_vaddr of the first PT_LOAD, page-aligned down
  std::optional<std::uint64_t> py_runtime;  // st_value of `_PyRuntime` (link address)
  std::optional<std::uint32_t> py_version;  // the value of `Py_Version` (0xMMmmppLS), 3.11+
};

// Reads the facts from `file`; `name` only labels error messages ("NAME: not a
// 64-bit ELF file"). Symbols come from .dynsym, and from .symtab only when .dynsym has
// no `_PyRuntime` (a .symtab can be 20x larger). Py_Version's value is read from the
// SHT_PROGBITS section that holds its address. Error: not a 64-bit ELF file,
// unexpected header sizes, more than kMaxElfHeaders headers, or headers past the end
// of the file. A symbol table or string table that is malformed, too large or past the
// end is skipped, not an error. Any bytes give a value or an Error: never a crash, and
// no allocation larger than the file or the limits above.
Result<ElfFacts> read_elf_facts(const ByteSource& file, const std::string& name);

}  // namespace boundwise::process
