// Pure: kernel function names from the text of /proc/kallsyms ("ADDRESS TYPE NAME
// [MODULE]" per line), to name the kernel part of a sampled callchain. Readers without
// CAP_SYSLOG see every address as 0: the table is then empty and kernel frames are
// shown as "[kernel]".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace boundwise::stacks {

class KernelSymbols {
 public:
  // Text symbols (types t, T, w, W) with a non-zero address; other lines are skipped.
  static KernelSymbols parse(std::string_view kallsyms);
  // The name of the function at or before `address`; "" when none (or empty table).
  std::string_view name_at(std::uint64_t address) const;
  bool empty() const { return symbols_.empty(); }

 private:
  struct Symbol {
    std::uint64_t start;
    std::uint32_t name;
  };
  std::vector<Symbol> symbols_;  // sorted by start
  std::string names_;
};

}  // namespace boundwise::stacks
