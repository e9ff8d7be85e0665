// Numbers from the kernel's arch/x86/entry/syscalls/syscall_64.tbl (common and 64-bit
// entries; the x32 ABI's 512+ numbers fall outside the table and count as "other").
#include "collectors/ebpf/syscall_classes.hpp"

namespace boundwise::ebpf {

namespace {

struct Entry {
  long nr;
  std::uint32_t cls;
};

constexpr Entry kX86_64[] = {
    {0, BW_SC_READ},      // read
    {17, BW_SC_READ},     // pread64
    {19, BW_SC_READ},     // readv
    {295, BW_SC_READ},    // preadv
    {327, BW_SC_READ},    // preadv2
    {1, BW_SC_WRITE},     // write
    {18, BW_SC_WRITE},    // pwrite64
    {20, BW_SC_WRITE},    // writev
    {296, BW_SC_WRITE},   // pwritev
    {328, BW_SC_WRITE},   // pwritev2
    {45, BW_SC_RECV},     // recvfrom
    {47, BW_SC_RECV},     // recvmsg
    {299, BW_SC_RECV},    // recvmmsg
    {44, BW_SC_SEND},     // sendto
    {46, BW_SC_SEND},     // sendmsg
    {307, BW_SC_SEND},    // sendmmsg
    {40, BW_SC_SEND},     // sendfile
    {7, BW_SC_POLL},      // poll
    {23, BW_SC_POLL},     // select
    {232, BW_SC_POLL},    // epoll_wait
    {281, BW_SC_POLL},    // epoll_pwait
    {441, BW_SC_POLL},    // epoll_pwait2
    {270, BW_SC_POLL},    // pselect6
    {271, BW_SC_POLL},    // ppoll
    {202, BW_SC_FUTEX},   // futex
    {449, BW_SC_FUTEX},   // futex_waitv
    {454, BW_SC_FUTEX},   // futex_wake
    {455, BW_SC_FUTEX},   // futex_wait
    {456, BW_SC_FUTEX},   // futex_requeue
    {74, BW_SC_FSYNC},    // fsync
    {75, BW_SC_FSYNC},    // fdatasync
    {162, BW_SC_FSYNC},   // sync
    {277, BW_SC_FSYNC},   // sync_file_range
    {306, BW_SC_FSYNC},   // syncfs
    {42, BW_SC_CONNECT},  // connect
    {43, BW_SC_ACCEPT},   // accept
    {288, BW_SC_ACCEPT},  // accept4
    {35, BW_SC_SLEEP},    // nanosleep
    {230, BW_SC_SLEEP},   // clock_nanosleep
};

constexpr std::string_view kNames[] = {"read",  "write",   "recv",   "send",  "poll", "futex",
                                       "fsync", "connect", "accept", "sleep", "other"};
static_assert(std::size(kNames) == kSyscallClasses);

}  // namespace

std::string_view syscall_class_name(std::uint32_t cls) {
  return cls < kSyscallClasses ? kNames[cls] : std::string_view();
}

std::uint32_t syscall_class_of(long nr) {
  for (const auto& e : kX86_64) {
    if (e.nr == nr) return e.cls;
  }
  return BW_SC_OTHER;
}

std::array<std::uint8_t, BW_SYSCALL_NR_LIMIT> syscall_class_table() {
  std::array<std::uint8_t, BW_SYSCALL_NR_LIMIT> t{};
  t.fill(BW_SC_OTHER);
  for (const auto& e : kX86_64)
    t[static_cast<std::size_t>(e.nr)] = static_cast<std::uint8_t>(e.cls);
  return t;
}

}  // namespace boundwise::ebpf
