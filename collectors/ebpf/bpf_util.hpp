// Small helpers shared by the BPF tool loaders: libbpf's log routed to the "ebpf"
// logger (its last lines kept for error messages, so that a verifier rejection is
// explained in the one warning the agent prints), errno text with a privilege hint,
// the kernel's per-program run-time statistics, and a walk over a map's entries.
#pragma once

#include <bpf/libbpf.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace boundwise::ebpf {

// Installs the libbpf print callback (idempotent).
void route_libbpf_log();

// The last lines libbpf printed at warning level (the verifier's complaint), joined.
std::string last_libbpf_lines();

// "what: strerror(-err)" plus a hint for EPERM/EACCES (privileges) and for a
// verifier rejection (the libbpf lines).
std::string describe_failure(std::string_view what, int err);

struct ProgramRunStats {
  std::uint64_t run_time_ns = 0;
  std::uint64_t run_count = 0;
};

// Names and fds of every program of a loaded object.
std::vector<std::pair<std::string, int>> program_fds(const bpf_object* obj);

// CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns().
std::uint64_t monotonic_ns();

// Run time and count of a loaded program (zero unless run-time stats are enabled).
ProgramRunStats program_run_stats(int prog_fd);

// Calls f(key, value) with a copy of every entry of a hash map; an entry deleted by the
// kernel during the walk is skipped. f must not delete entries (collect the keys and
// delete them after the walk: a deletion can restart get_next_key).
template <class Key, class Value, class F>
void for_each_entry(const bpf_map* map, F&& f) {
  Key key{};
  Key next{};
  const void* prev = nullptr;
  while (bpf_map__get_next_key(map, prev, &next, sizeof next) == 0) {
    Value value{};
    if (bpf_map__lookup_elem(map, &next, sizeof next, &value, sizeof value, 0) == 0) f(next, value);
    key = next;
    prev = &key;
  }
}

}  // namespace boundwise::ebpf
