// libunwind's remote accessors over a perf sample. How the remote table lookup is fed
// (UNW_INFO_FORMAT_REMOTE_TABLE over .eh_frame_hdr's binary-search table, segbase =
// the table header's address) follows libunwind's own dwarf_find_proc_info
// (src/dwarf/Gfind_proc_info-lsb.c) and perf's tools/perf/util/unwind-libunwind-local.c.
#include "collectors/stacks/unwinder.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

// Exported by libunwind-x86_64 but not declared in its public headers (libunwind's name).
extern "C" int _Ux86_64_dwarf_search_unwind_table(  // NOLINT(readability-identifier-naming)
    unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t* di, unw_proc_info_t* pi,
    int need_unwind_info, void* arg);

namespace boundwise::stacks {

namespace {

// How far past the copied bytes an address still counts as "the stack was cut" rather
// than "not memory we have".
constexpr std::uint64_t kStackSlack = std::uint64_t{8} << 20;

struct Context {
  const PerfSample& sample;
  ProcessView& process;
  ObjectCache& cache;
  UnwindFailure failure = UnwindFailure::kNone;
  void fail(UnwindFailure f) {
    if (failure == UnwindFailure::kNone) failure = f;
  }
};

Context& context(void* arg) { return *static_cast<Context*>(arg); }

int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t* pi, int need_unwind_info,
                   void* arg) {
  Context& c = context(arg);
  const auto* region = c.process.find(ip, c.cache);
  if (region == nullptr || !region->image || !region->image->table ||
      !region->image->eh_frame_hdr || !region->image->eh_frame) {
    c.fail(UnwindFailure::kNoUnwindInfo);
    return -UNW_ENOINFO;
  }
  const auto& image = *region->image;
  unw_dyn_info_t di{};
  di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
  di.start_ip = region->mapping.start;
  di.end_ip = region->mapping.end;
  di.u.rti.segbase = image.eh_frame_hdr->vaddr + region->bias;
  di.u.rti.table_data = di.u.rti.segbase + image.table->table_offset;
  di.u.rti.table_len = image.table->fde_count * 8 / sizeof(unw_word_t);
  int ret = _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need_unwind_info, arg);
  if (ret < 0) c.fail(UnwindFailure::kNoUnwindInfo);
  return ret;
}

// libunwind frees the unwind info it allocated itself (the table format's
// put_unwind_info path); nothing of ours to release.
void put_unwind_info(unw_addr_space_t, unw_proc_info_t*, void*) {}

int get_dyn_info_list_addr(unw_addr_space_t, unw_word_t*, void*) { return -UNW_ENOINFO; }

int access_mem(unw_addr_space_t, unw_word_t address, unw_word_t* value, int write, void* arg) {
  Context& c = context(arg);
  if (write != 0) return -UNW_EINVAL;
  const std::uint64_t sp = c.sample.regs[reg_index(kPerfRegSp)];
  const auto& stack = c.sample.stack;
  if (address >= sp && stack.size() >= sizeof *value &&
      address - sp <= stack.size() - sizeof *value) {
    std::memcpy(value, stack.data() + (address - sp), sizeof *value);
    return 0;
  }
  if (const auto* region = c.process.find(address, c.cache); region != nullptr && region->image) {
    const std::uint64_t vaddr = address - region->bias;
    // libunwind reads whole aligned words: the last word of a table may reach past the
    // section's end (into padding or the next section), and only its first bytes count.
    for (const auto* section : {&region->image->eh_frame_hdr, &region->image->eh_frame}) {
      if (!*section || vaddr < (*section)->vaddr) continue;
      const std::uint64_t at = vaddr - (*section)->vaddr;
      const auto& bytes = (*section)->bytes;
      if (at >= bytes.size()) continue;
      *value = 0;
      std::memcpy(value, bytes.data() + at,
                  std::min<std::uint64_t>(sizeof *value, bytes.size() - at));
      return 0;
    }
  }
  if (address >= sp && address - sp < kStackSlack) {
    c.fail(UnwindFailure::kStackTruncated);
  } else {
    c.fail(UnwindFailure::kReadFailed);
  }
  return -UNW_EINVAL;
}

// libunwind's x86-64 register numbers → perf's (asm/perf_regs.h).
int perf_register(unw_regnum_t reg) {
  switch (reg) {
    case UNW_X86_64_RAX:
      return 0;
    case UNW_X86_64_RDX:
      return 3;
    case UNW_X86_64_RCX:
      return 2;
    case UNW_X86_64_RBX:
      return 1;
    case UNW_X86_64_RSI:
      return 4;
    case UNW_X86_64_RDI:
      return 5;
    case UNW_X86_64_RBP:
      return kPerfRegBp;
    case UNW_X86_64_RSP:
      return kPerfRegSp;
    case UNW_X86_64_RIP:
      return kPerfRegIp;
    default:
      if (reg >= UNW_X86_64_R8 && reg <= UNW_X86_64_R15) return 16 + (reg - UNW_X86_64_R8);
      return -1;
  }
}

int access_reg(unw_addr_space_t, unw_regnum_t reg, unw_word_t* value, int write, void* arg) {
  if (write != 0) return -UNW_EREADONLYREG;
  int perf = perf_register(reg);
  if (perf < 0) return -UNW_EBADREG;
  *value = context(arg).sample.regs[reg_index(perf)];
  return 0;
}

int access_fpreg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t*, int, void*) { return -UNW_EBADREG; }

int resume(unw_addr_space_t, unw_cursor_t*, void*) { return -UNW_EINVAL; }

int get_proc_name(unw_addr_space_t, unw_word_t, char*, size_t, unw_word_t*, void*) {
  return -UNW_ENOINFO;
}

unw_accessors_t accessors() {
  unw_accessors_t a{};
  a.find_proc_info = find_proc_info;
  a.put_unwind_info = put_unwind_info;
  a.get_dyn_info_list_addr = get_dyn_info_list_addr;
  a.access_mem = access_mem;
  a.access_reg = access_reg;
  a.access_fpreg = access_fpreg;
  a.resume = resume;
  a.get_proc_name = get_proc_name;
  return a;
}

}  // namespace

std::string_view to_string(UnwindFailure failure) {
  switch (failure) {
    case UnwindFailure::kNone:
      return "none";
    case UnwindFailure::kNoUnwindInfo:
      return "no_unwind_info";
    case UnwindFailure::kStackTruncated:
      return "stack_truncated";
    case UnwindFailure::kReadFailed:
      return "read_failed";
    case UnwindFailure::kBadFrame:
      return "bad_frame";
  }
  return "none";
}

Unwinder::Unwinder(std::size_t max_frames) : max_frames_(max_frames) {
  unw_accessors_t a = accessors();
  space_ = unw_create_addr_space(&a, 0);
  // Addresses mean different things in different processes: no cache across samples.
  if (space_ != nullptr) unw_set_caching_policy(space_, UNW_CACHE_NONE);
}

Unwinder::~Unwinder() {
  if (space_ != nullptr) unw_destroy_addr_space(space_);
}

namespace {

// How far above a frame's SP its frame pointer is looked for (a frame's locals and
// saved registers), and how many candidates are tried at most.
constexpr std::uint64_t kFramePointerScan = 4096;
constexpr std::size_t kFramePointerTries = 8;

// Candidates for the frame pointer of the frame at `frame_sp`, lowest first: words of
// the copied stack that point higher into the stack and are followed by an address in
// executable code (a saved frame pointer and its return address).
std::vector<std::uint64_t> frame_pointer_candidates(const PerfSample& sample,
                                                    std::uint64_t frame_sp, ProcessView& process,
                                                    ObjectCache& cache) {
  std::vector<std::uint64_t> out;
  const std::uint64_t sp = sample.regs[reg_index(kPerfRegSp)];
  const auto& stack = sample.stack;
  if (frame_sp < sp || stack.size() < 16) return out;
  auto word = [&](std::uint64_t address) {
    std::uint64_t value = 0;
    std::memcpy(&value, stack.data() + (address - sp), sizeof value);
    return value;
  };
  const std::uint64_t end = sp + stack.size() - 16;  // the last v with [v] and [v + 8]
  for (std::uint64_t v = (frame_sp + 7) & ~std::uint64_t{7};
       v <= end && v - frame_sp < kFramePointerScan && out.size() < kFramePointerTries; v += 8) {
    const std::uint64_t saved = word(v);
    if (saved <= v + 8 || saved - sp >= kStackSlack) continue;
    const auto* code = process.find(word(v + 8), cache);
    if (code != nullptr && code->mapping.executable) out.push_back(v);
  }
  return out;
}

}  // namespace

UnwoundStack Unwinder::unwind(const PerfSample& sample, ProcessView& process, ObjectCache& cache) {
  std::uint64_t stopped_sp = 0;
  UnwoundStack out = unwind_once(sample, process, cache, stopped_sp);
  if (out.failure != UnwindFailure::kReadFailed || sample.regs[reg_index(kPerfRegBp)] != 0) {
    return out;
  }
  // A stale frame left in the frame's locals by an earlier call fits too, but leads
  // astray: the candidate whose stack ends cleanly at the outermost frame wins, else the
  // deepest.
  PerfSample guessed = sample;
  std::optional<UnwoundStack> best;
  for (std::uint64_t v : frame_pointer_candidates(sample, stopped_sp, process, cache)) {
    guessed.regs[reg_index(kPerfRegBp)] = v;
    std::uint64_t ignored = 0;
    UnwoundStack again = unwind_once(guessed, process, cache, ignored);
    const bool clean = again.failure == UnwindFailure::kNone;
    if (!best || (clean && best->failure != UnwindFailure::kNone) ||
        (clean == (best->failure == UnwindFailure::kNone) && again.ips.size() > best->ips.size())) {
      best = std::move(again);
    }
  }
  return best && best->ips.size() > out.ips.size() ? *best : out;
}

UnwoundStack Unwinder::unwind_once(const PerfSample& sample, ProcessView& process,
                                   ObjectCache& cache, std::uint64_t& stopped_sp) {
  UnwoundStack out;
  const std::uint64_t ip = sample.regs[reg_index(kPerfRegIp)];
  out.ips.push_back(ip);
  if (space_ == nullptr) {
    out.failure = UnwindFailure::kBadFrame;
    return out;
  }
  Context c{sample, process, cache};
  unw_cursor_t cursor;
  if (unw_init_remote(&cursor, space_, &c) < 0) {
    out.failure = UnwindFailure::kBadFrame;
    return out;
  }
  // A failed read along the way is only the cause when the unwind then stops with an
  // error: libunwind also probes (e.g. for a signal frame) and goes on.
  while (out.ips.size() < max_frames_) {
    unw_word_t frame_sp = 0;
    if (unw_get_reg(&cursor, UNW_REG_SP, &frame_sp) == 0) stopped_sp = frame_sp;
    int step = unw_step(&cursor);
    if (step == 0) return out;  // the outermost frame (its return address is undefined)
    if (step < 0) {
      out.failure = c.failure != UnwindFailure::kNone ? c.failure : UnwindFailure::kBadFrame;
      return out;
    }
    unw_word_t next = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &next) < 0 || next == 0) return out;
    out.ips.push_back(next);
  }
  return out;
}

}  // namespace boundwise::stacks
