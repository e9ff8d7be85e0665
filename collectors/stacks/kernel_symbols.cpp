#include "collectors/stacks/kernel_symbols.hpp"

#include <algorithm>
#include <charconv>

namespace boundwise::stacks {

KernelSymbols KernelSymbols::parse(std::string_view kallsyms) {
  std::string_view text = kallsyms;
  KernelSymbols out;
  while (!text.empty()) {
    auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 + 3 > line.size() || line[sp1 + 2] != ' ') continue;
    char type = line[sp1 + 1];
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
    std::uint64_t address = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + sp1, address, 16);
    if (ec != std::errc{} || end != line.data() + sp1 || address == 0) continue;
    std::string_view name = line.substr(sp1 + 3);
    name = name.substr(0, name.find_first_of(" \t"));
    if (name.empty()) continue;
    out.symbols_.push_back({address, static_cast<std::uint32_t>(out.names_.size())});
    out.names_.append(name);
    out.names_.push_back('\0');
  }
  std::stable_sort(out.symbols_.begin(), out.symbols_.end(),
                   [](const Symbol& a, const Symbol& b) { return a.start < b.start; });
  return out;
}

std::string_view KernelSymbols::name_at(std::uint64_t address) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](std::uint64_t a, const Symbol& s) { return a < s.start; });
  if (it == symbols_.begin()) return {};
  return std::string_view(names_.c_str() + std::prev(it)->name);
}

}  // namespace boundwise::stacks
