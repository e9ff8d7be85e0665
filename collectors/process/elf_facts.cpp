// Reading the ELF facts from bytes. Every offset and count comes from the file, so
// each is checked against the file's size before anything is allocated or read
// (tests/fuzz/elf_fuzz.cpp feeds it arbitrary bytes).
#include "collectors/process/elf_facts.hpp"

#include <elf.h>

#include <cstring>
#include <vector>

namespace boundwise::process {

bool SpanSource::read(std::uint64_t offset, void* out, std::size_t n) const {
  if (n == 0) return true;
  if (offset > bytes_.size() || n > bytes_.size() - offset) return false;
  std::memcpy(out, bytes_.data() + offset, n);
  return true;
}

namespace {

struct Symbols {
  std::optional<std::uint64_t> py_runtime;
  std::optional<std::uint64_t> py_version_vaddr;
};

// Scans one symbol table section (.dynsym or .symtab) for the two symbols we need.
void scan_symbols(const ByteSource& f, const Elf64_Shdr& symtab, const Elf64_Shdr& strtab,
                  Symbols& out) {
  if (symtab.sh_entsize != sizeof(Elf64_Sym) || strtab.sh_size == 0 ||
      strtab.sh_size > kMaxElfStringTable || symtab.sh_size > kMaxElfSymbolTable) {
    return;
  }
  std::vector<char> strings;
  if (!read_table(f, strtab.sh_offset, strtab.sh_size, strings)) return;
  std::vector<Elf64_Sym> syms;
  if (!read_table(f, symtab.sh_offset, symtab.sh_size / sizeof(Elf64_Sym), syms)) return;
  for (const auto& s : syms) {
    if (s.st_name >= strings.size() || s.st_value == 0) continue;
    const char* name = strings.data() + s.st_name;
    std::size_t max = strings.size() - s.st_name;
    if (strnlen(name, max) == max) continue;
    if (!out.py_runtime && std::strcmp(name, "_PyRuntime") == 0) out.py_runtime = s.st_value;
    if (!out.py_version_vaddr && std::strcmp(name, "Py_Version") == 0) {
      out.py_version_vaddr = s.st_value;
    }
  }
}

}  // namespace

Result<ElfFacts> read_elf_facts(const ByteSource& f, const std::string& name) {
  Elf64_Ehdr eh{};
  if (f.size() < sizeof eh || !f.read(0, &eh, sizeof eh) ||
      std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return Error{name + ": not a 64-bit ELF file"};
  }
  ElfFacts facts;
  facts.exec = eh.e_type == ET_EXEC;
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_shentsize != sizeof(Elf64_Shdr) ||
      eh.e_shnum > kMaxElfHeaders || eh.e_phnum > kMaxElfHeaders) {
    return Error{name + ": unexpected ELF header sizes"};
  }
  std::vector<Elf64_Phdr> ph;
  if (!read_table(f, eh.e_phoff, eh.e_phnum, ph)) {
    return Error{name + ": truncated program headers"};
  }
  for (const auto& p : ph) {
    if (p.p_type == PT_LOAD) {
      facts.first_load_vaddr = p.p_vaddr & ~std::uint64_t{0xfff};
      break;
    }
  }
  std::vector<Elf64_Shdr> sh;
  if (!read_table(f, eh.e_shoff, eh.e_shnum, sh)) {
    return Error{name + ": truncated section headers"};
  }
  // .dynsym first: both symbols are exported, and pyenv's .symtab is ~20x larger
  // (hundreds of ms to scan on a busy machine), so it is read only as a fallback.
  Symbols symbols;
  for (Elf64_Word type : {SHT_DYNSYM, SHT_SYMTAB}) {
    if (symbols.py_runtime) break;
    for (const auto& s : sh) {
      if (s.sh_type == type && s.sh_link < sh.size()) scan_symbols(f, s, sh[s.sh_link], symbols);
    }
  }
  facts.py_runtime = symbols.py_runtime;
  if (symbols.py_version_vaddr) {
    const std::uint64_t vaddr = *symbols.py_version_vaddr;
    for (const auto& s : sh) {
      // vaddr in [sh_addr, sh_addr + sh_size - 4], written so that nothing wraps.
      if (s.sh_type == SHT_PROGBITS && vaddr >= s.sh_addr && s.sh_size >= 4 &&
          vaddr - s.sh_addr <= s.sh_size - 4) {
        const std::uint64_t at = s.sh_offset + (vaddr - s.sh_addr);
        std::uint32_t value = 0;
        if (at >= s.sh_offset && at <= f.size() && sizeof value <= f.size() - at &&
            f.read(at, &value, sizeof value)) {
          facts.py_version = value;
        }
        break;
      }
    }
  }
  return facts;
}

}  // namespace boundwise::process
