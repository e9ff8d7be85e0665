// Unwinding a sampled user stack outside the target, with libunwind's remote API: the
// registers and the stack bytes perf copied at the sample (perf_sample.hpp), and the
// DWARF call-frame tables of the target's mapped ELF files (object_cache.hpp). Code
// built without frame pointers unwinds (the way `perf record --call-graph dwarf` does).
// Nothing of the target is read at unwind time but its maps (already in the
// ProcessView) and its files' tables (cached): a target that exits or unmaps mid-unwind
// gives a shorter stack or a failure cause, never a crash.
//
// Thread-safety: an Unwinder is used by one thread at a time.
#pragma once

#include <libunwind.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "collectors/stacks/object_cache.hpp"
#include "collectors/stacks/perf_sample.hpp"

namespace boundwise::stacks {

// Why an unwind stopped early (the label of boundwise_unwind_failures_total).
enum class UnwindFailure {
  kNone,
  kNoUnwindInfo,    // no readable ELF or no .eh_frame_hdr table for a frame's address
  kStackTruncated,  // a frame's data lies past the copied stack bytes
  kReadFailed,      // libunwind asked for memory that is neither stack nor a table
  kBadFrame,        // the DWARF rules gave an impossible frame (libunwind's error)
};
std::string_view to_string(UnwindFailure failure);

struct UnwoundStack {
  std::vector<std::uint64_t> ips;  // leaf first; ips[0] is the sampled IP
  UnwindFailure failure = UnwindFailure::kNone;
};

class Unwinder {
 public:
  explicit Unwinder(std::size_t max_frames);
  ~Unwinder();
  Unwinder(const Unwinder&) = delete;
  Unwinder& operator=(const Unwinder&) = delete;

  // The user stack of `sample` (which must have user registers) in `process`.
  //
  // A sample with no frame pointer (BP 0: an off-CPU stack, whose registers are SP and
  // IP only) that stops at a frame whose call-frame rule needs one (code built with
  // frame pointers, e.g. Debian's libpq: CFA = RBP + 16, and RBP still the live
  // register, since the frames below it never saved it) is unwound again with the frame
  // pointer found in the stack: the first word at or above that frame's SP that points
  // higher into the stack and is followed by an address in executable code (a saved
  // frame pointer and its return address), kept if the stack then goes deeper.
  UnwoundStack unwind(const PerfSample& sample, ProcessView& process, ObjectCache& cache);

 private:
  // One unwind; `stopped_sp` gets the SP of the frame the unwind could not step past.
  UnwoundStack unwind_once(const PerfSample& sample, ProcessView& process, ObjectCache& cache,
                           std::uint64_t& stopped_sp);

  unw_addr_space_t space_;
  std::size_t max_frames_;
};

}  // namespace boundwise::stacks
