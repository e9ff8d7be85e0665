// Syscall classes of the syscalls tool (enum bw_syscall_class in syscalls.h): their
// names, which are the `class` label of boundwise_syscall_latency_seconds and the keys
// of WorkloadWindow::syscall_latency, and the x86_64 syscall number → class table the
// loader hands to the BPF program. Pure.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "collectors/ebpf/syscalls.h"

namespace boundwise::ebpf {

inline constexpr std::size_t kSyscallClasses = BW_SYSCALL_CLASSES;

// "read", "write", "recv", "send", "poll", "futex", "fsync", "connect", "accept",
// "sleep", "other"; "" for an out-of-range class.
std::string_view syscall_class_name(std::uint32_t cls);

// The class of an x86_64 syscall number; BW_SC_OTHER for any other number (negative,
// unknown, or at or above BW_SYSCALL_NR_LIMIT).
std::uint32_t syscall_class_of(long nr);

// The table the BPF program indexes: entry nr = syscall_class_of(nr).
std::array<std::uint8_t, BW_SYSCALL_NR_LIMIT> syscall_class_table();

}  // namespace boundwise::ebpf
