// The pure half of what the stacks collector needs from a mapped ELF file: how its
// segments are laid out (to turn a process address into a file address), its DWARF
// call-frame tables (.eh_frame_hdr and .eh_frame, copied, for libunwind's remote
// unwinding) and its function symbols (.symtab and .dynsym, for naming frames). Bytes
// come through a ByteSource (elf_facts.hpp): the safely opened mapped file in the agent
// (mapped_file.hpp), a buffer in tests and the fuzz target (tests/fuzz/elf_image_fuzz.cpp).
// Every size and offset comes from the file, so each is checked before use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "classifier/result.hpp"
#include "collectors/process/elf_facts.hpp"

namespace boundwise::process {

// Limits on what one file may make the reader copy. A larger table is skipped (the
// frames in that object are then unnamed or not unwound), not an error.
inline constexpr std::uint64_t kMaxUnwindTableBytes = std::uint64_t{32} << 20;
inline constexpr std::uint64_t kMaxFunctionSymbols = 2'000'000;

struct LoadSegment {
  std::uint64_t vaddr = 0;
  std::uint64_t offset = 0;
  std::uint64_t filesz = 0;
  std::uint64_t memsz = 0;
  bool executable = false;
};

// A section copied from the file, at its link address.
struct CopiedSection {
  std::uint64_t vaddr = 0;
  std::vector<std::byte> bytes;
};

// The binary-search table of .eh_frame_hdr, as libunwind's remote table lookup reads
// it: `fde_count` pairs of int32 (initial location, FDE address), both relative to the
// start of .eh_frame_hdr, starting `table_offset` bytes into it.
struct EhFrameHdrTable {
  std::uint64_t table_offset = 0;
  std::uint64_t fde_count = 0;
};

// Pure: the header of .eh_frame_hdr (version 1, a 4-byte eh_frame pointer, fde_count as
// udata4, table as datarel sdata4: what GNU ld and lld write). nullopt for anything
// else, or a table that does not fit in `hdr`.
std::optional<EhFrameHdrTable> parse_eh_frame_hdr(std::span<const std::byte> hdr);

struct FunctionSymbol {
  std::uint64_t start = 0;  // link address
  std::uint64_t size = 0;
  std::uint32_t name = 0;  // offset into ElfImage::names
};

struct ElfImage {
  bool exec = false;  // ET_EXEC: loaded at its link addresses
  std::vector<LoadSegment> loads;
  std::optional<CopiedSection> eh_frame_hdr;
  std::optional<CopiedSection> eh_frame;
  std::optional<EhFrameHdrTable> table;  // parsed from eh_frame_hdr
  std::vector<FunctionSymbol> symbols;   // sorted by start, from .symtab and .dynsym
  std::string names;                     // NUL-separated names the symbols point into

  // The link address of file offset `offset` (in a PT_LOAD), or nullopt.
  std::optional<std::uint64_t> vaddr_of_offset(std::uint64_t offset) const;
  // The symbol whose [start, start + size) holds link address `vaddr` (a symbol of
  // size 0 holds only its start), or nullptr.
  const FunctionSymbol* symbol_at(std::uint64_t vaddr) const;
  std::string_view name_of(const FunctionSymbol& s) const;
  // Bytes this image holds in memory (for the cache's bound).
  std::size_t memory_bytes() const;
};

// Reads the image of `file`; `name` labels error messages. Error: not a 64-bit ELF
// file, unexpected header sizes or counts, or headers past the end. A missing,
// malformed or too large table is left out, not an error. Any bytes give a value or an
// Error, never a crash, and no allocation beyond the file's size or the limits.
Result<ElfImage> read_elf_image(const ByteSource& file, const std::string& name);

// Pure: a C++ symbol demangled (abi::__cxa_demangle); any other name as it is.
std::string demangle(std::string_view name);

}  // namespace boundwise::process
