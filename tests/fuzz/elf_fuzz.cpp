// libFuzzer target for the ELF byte parser (collectors/process/elf_facts.hpp): any
// bytes give ElfFacts or an Error. A crash, a hang, a sanitizer report or an
// allocation beyond the input's size or the parser's limits is a bug. The seeds
// (corpus/elf/) are small real ELF files, one with CPython's two symbols, and
// truncated or damaged copies.
#include <cstddef>
#include <cstdint>
#include <span>

#include "collectors/process/elf_facts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const boundwise::process::SpanSource file(
      std::as_bytes(std::span<const std::uint8_t>(data, size)));
  auto facts = boundwise::process::read_elf_facts(file, "fuzz.elf");
  // The first PT_LOAD address is page-aligned down, whatever the file says.
  if (facts && (facts->first_load_vaddr & 0xfff) != 0) __builtin_trap();
  return 0;
}
