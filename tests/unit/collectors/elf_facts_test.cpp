// The ELF byte parser (collectors/process/elf_facts.hpp) on ELF images built here byte
// by byte: the symbols in .dynsym or .symtab, Py_Version's value, the first PT_LOAD,
// and damaged files (every truncation, foreign classes, absurd counts and sizes) giving
// an Error or nothing, never a crash. tests/fuzz/elf_fuzz.cpp covers arbitrary bytes.
#include "collectors/process/elf_facts.hpp"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <span>
#include <string>
#include <vector>

namespace boundwise::process {
namespace {

constexpr std::uint64_t kRuntime = 0x4040;
constexpr std::uint32_t kVersion = 0x030c01f0;  // 3.12.1 final

// A small 64-bit ELF image: one PT_LOAD, a PROGBITS section holding Py_Version's value,
// a string table and a symbol table of type `symtab_type` naming `runtime_name` and
// "Py_Version".
struct ElfImage {
  Elf64_Half type = ET_DYN;
  Elf64_Word symtab_type = SHT_DYNSYM;
  std::string runtime_name = "_PyRuntime";
  std::uint64_t load_vaddr = 0x1234;

  static constexpr std::uint64_t kRodataOffset = 0x100, kRodataAddr = 0x2100;
  static constexpr std::uint64_t kStrtabOffset = 0x200, kSymtabOffset = 0x300;
  static constexpr std::uint64_t kShdrOffset = 0x400;

  std::vector<std::byte> bytes() const {
    std::vector<std::byte> out(kShdrOffset + 4 * sizeof(Elf64_Shdr));
    auto put = [&](std::uint64_t at, const void* data, std::size_t n) {
      std::memcpy(out.data() + at, data, n);
    };
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = type;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof eh;
    eh.e_shoff = kShdrOffset;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = 4;
    put(0, &eh, sizeof eh);
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_vaddr = load_vaddr;
    put(sizeof eh, &ph, sizeof ph);
    put(kRodataOffset, &kVersion, sizeof kVersion);
    const std::string strings = std::string("\0", 1) + runtime_name + '\0' + "Py_Version" + '\0';
    put(kStrtabOffset, strings.data(), strings.size());
    Elf64_Sym syms[3]{};
    syms[1].st_name = 1;
    syms[1].st_value = kRuntime;
    syms[2].st_name = static_cast<Elf64_Word>(2 + runtime_name.size());
    syms[2].st_value = kRodataAddr;
    put(kSymtabOffset, syms, sizeof syms);
    Elf64_Shdr sh[4]{};
    sh[1].sh_type = SHT_PROGBITS;
    sh[1].sh_addr = kRodataAddr;
    sh[1].sh_offset = kRodataOffset;
    sh[1].sh_size = 16;
    sh[2].sh_type = SHT_STRTAB;
    sh[2].sh_offset = kStrtabOffset;
    sh[2].sh_size = strings.size();
    sh[3].sh_type = symtab_type;
    sh[3].sh_offset = kSymtabOffset;
    sh[3].sh_size = sizeof syms;
    sh[3].sh_entsize = sizeof(Elf64_Sym);
    sh[3].sh_link = 2;
    put(kShdrOffset, sh, sizeof sh);
    return out;
  }
};

Result<ElfFacts> parse(const std::vector<std::byte>& bytes) {
  return read_elf_facts(SpanSource(bytes), "test.so");
}

TEST(ElfFacts, SymbolsVersionAndFirstLoadFromDynsym) {
  auto facts = parse(ElfImage{}.bytes());
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_FALSE(facts->exec);
  EXPECT_EQ(facts->first_load_vaddr, 0x1000u);  // page-aligned down
  EXPECT_EQ(facts->py_runtime, kRuntime);
  EXPECT_EQ(facts->py_version, kVersion);
}

TEST(ElfFacts, SymtabIsReadWhenDynsymHasNoRuntime) {
  ElfImage image;
  image.symtab_type = SHT_SYMTAB;
  image.type = ET_EXEC;
  auto facts = parse(image.bytes());
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_TRUE(facts->exec);
  EXPECT_EQ(facts->py_runtime, kRuntime);
  EXPECT_EQ(facts->py_version, kVersion);
}

TEST(ElfFacts, AnotherProgramIsReadButIsNotPython) {
  ElfImage image;
  image.runtime_name = "_PyRuntimeX";
  auto facts = parse(image.bytes());
  ASSERT_TRUE(facts) << facts.error().message;
  EXPECT_FALSE(facts->py_runtime);
  EXPECT_EQ(facts->py_version, kVersion);  // a Py_Version alone is still read

  std::ifstream in("/bin/true", std::ios::binary);
  std::vector<char> text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(text.empty());
  auto real = read_elf_facts(SpanSource(std::as_bytes(std::span<const char>(text))), "/bin/true");
  ASSERT_TRUE(real) << real.error().message;
  EXPECT_FALSE(real->py_runtime);
}

TEST(ElfFacts, EveryTruncationIsAnErrorOrAValue) {
  const auto whole = ElfImage{}.bytes();
  for (std::size_t n = 0; n < whole.size(); ++n) {
    std::vector<std::byte> head(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
    auto facts = parse(head);
    // The section headers are last: every proper prefix lacks some of them.
    ASSERT_FALSE(facts) << n;
    if (n < sizeof(Elf64_Ehdr)) {
      EXPECT_NE(facts.error().message.find("not a 64-bit ELF"), std::string::npos);
    }
  }
}

TEST(ElfFacts, ForeignOrAbsurdHeadersAreErrors) {
  auto with = [](auto change) {
    auto bytes = ElfImage{}.bytes();
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    change(eh);
    std::memcpy(bytes.data(), &eh, sizeof eh);
    return parse(bytes);
  };
  auto r = with([](Elf64_Ehdr& eh) { eh.e_ident[EI_CLASS] = ELFCLASS32; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "test.so: not a 64-bit ELF file");
  EXPECT_FALSE(with([](Elf64_Ehdr& eh) { eh.e_ident[1] = 'X'; }));
  r = with([](Elf64_Ehdr& eh) { eh.e_shnum = 4097; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "test.so: unexpected ELF header sizes");
  EXPECT_FALSE(with([](Elf64_Ehdr& eh) { eh.e_phentsize = 32; }));
  r = with([](Elf64_Ehdr& eh) { eh.e_phoff = ~std::uint64_t{0} - 8; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "test.so: truncated program headers");
  r = with([](Elf64_Ehdr& eh) { eh.e_shoff = ~std::uint64_t{0} - 8; });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "test.so: truncated section headers");
  // No program headers at all: read as none, wherever e_phoff points.
  r = with([](Elf64_Ehdr& eh) {
    eh.e_phnum = 0;
    eh.e_phoff = ~std::uint64_t{0};
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->first_load_vaddr, 0u);
}

// A table that claims more bytes than the file has (or than the limits allow) is
// skipped without being allocated: the facts are read, just without its symbols.
TEST(ElfFacts, OversizedOrMisplacedTablesAreSkipped) {
  auto with_section = [](int index, auto change) {
    auto bytes = ElfImage{}.bytes();
    Elf64_Shdr sh;
    auto at = ElfImage::kShdrOffset + static_cast<std::uint64_t>(index) * sizeof sh;
    std::memcpy(&sh, bytes.data() + at, sizeof sh);
    change(sh);
    std::memcpy(bytes.data() + at, &sh, sizeof sh);
    return parse(bytes);
  };
  const std::vector<std::function<void(Elf64_Shdr&)>> symtab_changes{
      [](Elf64_Shdr& s) { s.sh_size = kMaxElfSymbolTable - 24; },  // within the limit, past EOF
      [](Elf64_Shdr& s) { s.sh_size = kMaxElfSymbolTable + 24; },  // beyond the limit
      [](Elf64_Shdr& s) { s.sh_offset = ~std::uint64_t{0} - 16; },
      [](Elf64_Shdr& s) { s.sh_entsize = 16; },
      [](Elf64_Shdr& s) { s.sh_link = 99; },
  };
  for (const auto& change : symtab_changes) {
    auto r = with_section(3, change);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->py_runtime);
    EXPECT_FALSE(r->py_version);
  }
  const std::vector<std::function<void(Elf64_Shdr&)>> strtab_changes{
      [](Elf64_Shdr& s) { s.sh_size = kMaxElfStringTable; },  // at the limit, past EOF
      [](Elf64_Shdr& s) { s.sh_size = 0; },
      [](Elf64_Shdr& s) { s.sh_size = 3; },  // names run off the table's end
  };
  for (const auto& change : strtab_changes) {
    auto r = with_section(2, change);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->py_runtime);
  }
  // Py_Version's section pointing past the file, or too small to hold it.
  for (auto change : {std::function<void(Elf64_Shdr&)>(
                          [](Elf64_Shdr& s) { s.sh_offset = ~std::uint64_t{0} - 2; }),
                      std::function<void(Elf64_Shdr&)>([](Elf64_Shdr& s) { s.sh_size = 3; })}) {
    auto r = with_section(1, change);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->py_runtime, kRuntime);
    EXPECT_FALSE(r->py_version);
  }
}

}  // namespace
}  // namespace boundwise::process
