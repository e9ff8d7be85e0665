// libFuzzer target for the stacks collector's ELF reader (collectors/process/
// elf_image.hpp): any bytes give an ElfImage or an Error, and a lookup in the image
// stays inside it. A crash, a hang, a sanitizer report or an allocation beyond the
// input's size or the reader's limits is a bug. Seeds (corpus/elf_image/): a small
// real executable with .eh_frame_hdr and symbols, and damaged copies of it.
#include <cstddef>
#include <cstdint>
#include <span>

#include "collectors/process/elf_image.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const boundwise::process::SpanSource file(
      std::as_bytes(std::span<const std::uint8_t>(data, size)));
  auto image = boundwise::process::read_elf_image(file, "fuzz.elf");
  if (!image) return 0;
  for (const auto& s : image->symbols) {
    const auto* found = image->symbol_at(s.start);
    if (found == nullptr) __builtin_trap();  // every symbol's start names a symbol
    (void)image->name_of(*found);
  }
  if (image->table && image->eh_frame_hdr &&
      image->table->table_offset + image->table->fde_count * 8 >
          image->eh_frame_hdr->bytes.size()) {
    __builtin_trap();  // the table must lie inside the copied section
  }
  for (const auto& l : image->loads) (void)image->vaddr_of_offset(l.offset);
  return 0;
}
