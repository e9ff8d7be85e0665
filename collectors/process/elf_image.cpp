// Reading an ELF image's layout, call-frame tables and function symbols from bytes.
// Every offset and count comes from the file: each is checked against the file's size
// and the limits before anything is allocated or read (fuzzed as fuzz.elf_image).
#include "collectors/process/elf_image.hpp"

#include <cxxabi.h>
#include <elf.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace boundwise::process {

namespace {

std::optional<CopiedSection> copy_section(const ByteSource& f, const Elf64_Shdr& s) {
  if (s.sh_type == SHT_NOBITS || s.sh_size == 0 || s.sh_size > kMaxUnwindTableBytes) {
    return std::nullopt;
  }
  CopiedSection out;
  out.vaddr = s.sh_addr;
  if (!read_table(f, s.sh_offset, s.sh_size, out.bytes)) return std::nullopt;
  return out;
}

// Adds the function symbols of one table (.symtab or .dynsym) to `image`.
void add_symbols(const ByteSource& f, const Elf64_Shdr& symtab, const Elf64_Shdr& strtab,
                 ElfImage& image) {
  if (symtab.sh_entsize != sizeof(Elf64_Sym) || strtab.sh_size == 0 ||
      strtab.sh_size > kMaxElfStringTable || symtab.sh_size > kMaxElfSymbolTable) {
    return;
  }
  std::vector<char> strings;
  if (!read_table(f, strtab.sh_offset, strtab.sh_size, strings)) return;
  std::vector<Elf64_Sym> syms;
  if (!read_table(f, symtab.sh_offset, symtab.sh_size / sizeof(Elf64_Sym), syms)) return;
  for (const auto& s : syms) {
    if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_value == 0 || s.st_shndx == SHN_UNDEF) {
      continue;
    }
    if (s.st_name >= strings.size() || image.symbols.size() >= kMaxFunctionSymbols) continue;
    const char* name = strings.data() + s.st_name;
    std::size_t max = strings.size() - s.st_name;
    std::size_t length = strnlen(name, max);
    if (length == max || length == 0) continue;
    if (image.names.size() + length + 1 > kMaxElfStringTable) return;
    image.symbols.push_back(
        {s.st_value, s.st_size, static_cast<std::uint32_t>(image.names.size())});
    image.names.append(name, length);
    image.names.push_back('\0');
  }
}

std::uint32_t read_u32(std::span<const std::byte> bytes, std::size_t at) {
  std::uint32_t v = 0;
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

}  // namespace

std::optional<EhFrameHdrTable> parse_eh_frame_hdr(std::span<const std::byte> hdr) {
  // version, eh_frame_ptr_enc, fde_count_enc, table_enc, eh_frame_ptr, fde_count, table
  constexpr std::size_t kHeader = 12;
  if (hdr.size() < kHeader) return std::nullopt;
  auto byte = [&](std::size_t i) { return static_cast<unsigned>(hdr[i]); };
  constexpr unsigned kPcrelSdata4 = 0x1b, kUdata4 = 0x03, kDatarelSdata4 = 0x3b;
  if (byte(0) != 1 || byte(1) != kPcrelSdata4 || byte(2) != kUdata4 || byte(3) != kDatarelSdata4) {
    return std::nullopt;
  }
  const std::uint64_t count = read_u32(hdr, 8);
  if (count > (hdr.size() - kHeader) / 8) return std::nullopt;
  return EhFrameHdrTable{kHeader, count};
}

std::optional<std::uint64_t> ElfImage::vaddr_of_offset(std::uint64_t offset) const {
  for (const auto& l : loads) {
    if (offset >= l.offset && offset - l.offset < std::max(l.filesz, std::uint64_t{1})) {
      return l.vaddr + (offset - l.offset);
    }
  }
  // A mapping's offset is page-aligned down from its segment's p_offset.
  for (const auto& l : loads) {
    std::uint64_t page_start = l.offset & ~std::uint64_t{0xfff};
    if (offset >= page_start && offset <= l.offset) return l.vaddr - (l.offset - offset);
  }
  return std::nullopt;
}

const FunctionSymbol* ElfImage::symbol_at(std::uint64_t vaddr) const {
  auto it = std::upper_bound(symbols.begin(), symbols.end(), vaddr,
                             [](std::uint64_t a, const FunctionSymbol& s) { return a < s.start; });
  if (it == symbols.begin()) return nullptr;
  --it;
  // Aliases share a start (one may have size 0): any one of them names the frame.
  const std::uint64_t start = it->start;
  for (;;) {
    if (vaddr - it->start < std::max(it->size, std::uint64_t{1})) return &*it;
    if (it == symbols.begin()) return nullptr;
    --it;
    if (it->start != start) return nullptr;
  }
}

std::string_view ElfImage::name_of(const FunctionSymbol& s) const {
  if (s.name >= names.size()) return {};
  return std::string_view(names.c_str() + s.name);
}

std::size_t ElfImage::memory_bytes() const {
  std::size_t n = sizeof(*this) + names.size() + symbols.size() * sizeof(FunctionSymbol) +
                  loads.size() * sizeof(LoadSegment);
  if (eh_frame_hdr) n += eh_frame_hdr->bytes.size();
  if (eh_frame) n += eh_frame->bytes.size();
  return n;
}

Result<ElfImage> read_elf_image(const ByteSource& f, const std::string& name) {
  Elf64_Ehdr eh{};
  if (f.size() < sizeof eh || !f.read(0, &eh, sizeof eh) ||
      std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) {
    return Error{name + ": not a 64-bit ELF file"};
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_shentsize != sizeof(Elf64_Shdr) ||
      eh.e_shnum > kMaxElfHeaders || eh.e_phnum > kMaxElfHeaders) {
    return Error{name + ": unexpected ELF header sizes"};
  }
  ElfImage image;
  image.exec = eh.e_type == ET_EXEC;
  std::vector<Elf64_Phdr> ph;
  if (!read_table(f, eh.e_phoff, eh.e_phnum, ph))
    return Error{name + ": truncated program headers"};
  for (const auto& p : ph) {
    if (p.p_type != PT_LOAD) continue;
    image.loads.push_back({p.p_vaddr, p.p_offset, p.p_filesz, p.p_memsz, (p.p_flags & PF_X) != 0});
  }
  std::vector<Elf64_Shdr> sh;
  if (!read_table(f, eh.e_shoff, eh.e_shnum, sh))
    return Error{name + ": truncated section headers"};
  std::vector<char> section_names;
  if (eh.e_shstrndx < sh.size() && sh[eh.e_shstrndx].sh_size <= kMaxElfStringTable) {
    if (!read_table(f, sh[eh.e_shstrndx].sh_offset, sh[eh.e_shstrndx].sh_size, section_names)) {
      section_names.clear();
    }
  }
  auto section_is = [&](const Elf64_Shdr& s, std::string_view wanted) {
    if (s.sh_name >= section_names.size()) return false;
    const char* at = section_names.data() + s.sh_name;
    std::size_t max = section_names.size() - s.sh_name;
    return strnlen(at, max) == wanted.size() && std::string_view(at, wanted.size()) == wanted;
  };
  for (const auto& s : sh) {
    if (!image.eh_frame_hdr && section_is(s, ".eh_frame_hdr"))
      image.eh_frame_hdr = copy_section(f, s);
    if (!image.eh_frame && section_is(s, ".eh_frame")) image.eh_frame = copy_section(f, s);
  }
  if (image.eh_frame_hdr) image.table = parse_eh_frame_hdr(image.eh_frame_hdr->bytes);
  for (Elf64_Word type : {SHT_SYMTAB, SHT_DYNSYM}) {
    for (const auto& s : sh) {
      if (s.sh_type == type && s.sh_link < sh.size()) add_symbols(f, s, sh[s.sh_link], image);
    }
  }
  std::sort(image.symbols.begin(), image.symbols.end(),
            [](const FunctionSymbol& a, const FunctionSymbol& b) { return a.start < b.start; });
  return image;
}

std::string demangle(std::string_view name) {
  if (name.size() < 2 || name.substr(0, 2) != "_Z") return std::string(name);
  std::string mangled(name);
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> out(
      abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status), &std::free);
  if (status != 0 || out == nullptr) return mangled;
  return std::string(out.get());
}

}  // namespace boundwise::process
