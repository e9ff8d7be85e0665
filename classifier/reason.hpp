// The wait-reason vocabulary (README.md, docs/COLLECTORS.md): every second of every
// thread of a workload is accounted to exactly one Reason.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace boundwise {

enum class Reason : std::uint8_t {
  on_cpu,    // running
  runqueue,  // runnable, waiting for a CPU
  gil,       // waiting for the Python GIL
  lock,      // waiting on a lock or condition that is not the GIL
  net,       // blocked on a socket to a remote endpoint (a dependency)
  disk,      // blocked on block or regular-file I/O
  ipc,       // blocked on a pipe or unix socket to a local process
  sleep,     // timed sleep
  idle,      // waiting for work (includes parked threads)
  paging,    // waiting on memory (major faults)
  other,     // everything else, said honestly
};

inline constexpr std::size_t kReasonCount = 11;

inline constexpr std::array<Reason, kReasonCount> kAllReasons = {
    Reason::on_cpu, Reason::runqueue, Reason::gil,  Reason::lock,   Reason::net,  Reason::disk,
    Reason::ipc,    Reason::sleep,    Reason::idle, Reason::paging, Reason::other};

// A value per reason, indexed by index_of(reason).
template <class T>
using PerReason = std::array<T, kReasonCount>;

constexpr std::size_t index_of(Reason r) { return static_cast<std::size_t>(r); }

// The lower-case name used in metrics labels, JSON and docs ("on_cpu", "net", ...).
std::string_view to_string(Reason r);
std::optional<Reason> reason_from_string(std::string_view name);

}  // namespace boundwise
