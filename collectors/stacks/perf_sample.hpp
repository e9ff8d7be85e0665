// Pure: one PERF_RECORD_SAMPLE of the stacks collector's events, from its bytes. The
// events ask for PERF_SAMPLE_TID | TIME | CALLCHAIN | REGS_USER | STACK_USER (with
// exclude_callchain_user: the callchain is the kernel's part only), so a record is,
// after its header (include/uapi/linux/perf_event.h, "PERF_RECORD_SAMPLE"):
//   u32 pid, tid; u64 time; u64 nr, ips[nr]; u64 abi, regs[weight(mask)] (none when
//   abi is 0); u64 size, data[size], and u64 dyn_size when size is not 0.
// Tested on hand-built records and fuzzed (tests/fuzz/perf_sample_fuzz.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "classifier/result.hpp"

namespace boundwise::stacks {

// The user registers the events ask for, in perf's order (asm/perf_regs.h): AX BX CX
// DX SI DI BP SP IP (bits 0-8), R8-R15 (bits 16-23). Flags and segments are left out.
inline constexpr std::uint64_t kSampleRegsMask = 0x1ffULL | (0xffULL << 16);
inline constexpr std::size_t kSampleRegs = 17;
// Index in PerfSample::regs of perf's register `perf_reg` (a bit of kSampleRegsMask).
constexpr std::size_t reg_index(int perf_reg) {
  return perf_reg <= 8 ? static_cast<std::size_t>(perf_reg)
                       : static_cast<std::size_t>(perf_reg - 7);
}
inline constexpr int kPerfRegBp = 6, kPerfRegSp = 7, kPerfRegIp = 8;

// perf's context markers in a callchain (PERF_CONTEXT_KERNEL and the like): values at
// or above this are not addresses.
inline constexpr std::uint64_t kPerfContextMax = static_cast<std::uint64_t>(-4095);

struct PerfSample {
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
  std::uint64_t time_ns = 0;
  std::vector<std::uint64_t> kernel_ips;  // leaf first, context markers removed
  bool has_user_regs = false;             // abi != 0: the thread was in user space or a syscall
  std::array<std::uint64_t, kSampleRegs> regs{};
  // The copied user stack from regs[SP], its valid part (dyn_size bytes: the kernel
  // copies the requested size or up to the end of user space, whichever is less).
  std::span<const std::byte> stack;
};

// Parses the body of a PERF_RECORD_SAMPLE (the bytes after its perf_event_header),
// `stack` pointing into `body`. Error: the record is shorter than its own counts say,
// or a count is impossible.
Result<PerfSample> parse_sample(std::span<const std::byte> body);

// The inverse: the record body parse_sample() reads back as `sample` (user registers
// when has_user_regs, the stack copy as both size and dyn_size). The off-CPU sampler
// builds its stacks (read from /proc/TID/syscall and process_vm_readv, not from perf)
// this way, so that they take the same path to the unwinding thread as perf's.
std::vector<std::byte> build_sample(const PerfSample& sample);

}  // namespace boundwise::stacks
