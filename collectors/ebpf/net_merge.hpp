// The pure part of the net tool (net.cpp): kernel endpoint keys → Endpoint, cumulative
// counters → window deltas, and folding one endpoint's delta into a workload's
// dependency list under the same names and cap the procfs collector uses
// (dependency_name(), max_dependencies_per_workload, the "other" bucket). No libbpf,
// no I/O: unit-tested in tests/unit/collectors/net_test.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "classifier/endpoint.hpp"
#include "classifier/histogram.hpp"
#include "classifier/window.hpp"
#include "collectors/ebpf/net.h"

namespace boundwise::ebpf {

// The remote endpoint of a kernel key; an IPv4-mapped IPv6 address becomes IPv4.
Endpoint endpoint_of(const bw_net_key& key);

// Cumulative counters of one (workload, endpoint), as summed from the kernel map.
struct NetCounters {
  std::array<std::uint64_t, BW_LATENCY_SLOTS> req_slots{};
  std::uint64_t req_sum_ns = 0;
  std::uint64_t requests = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::array<std::uint64_t, BW_LATENCY_SLOTS> conn_slots{};
  std::uint64_t conn_sum_ns = 0;
};
NetCounters counters_of(const bw_net_stats& s);

// One window of one endpoint. Counts are divided by the attached fraction (duty
// cycling); the histograms are what was measured (an unbiased sample).
struct NetDelta {
  LatencyHistogram request_latency;
  LatencyHistogram connect_latency;
  double requests = 0;
  double bytes_sent = 0;
  double bytes_received = 0;
};
// (previous, current) → delta; a counter that went backwards restarts from zero.
// attached_fraction <= 0 is taken as 1.
NetDelta net_delta(const NetCounters& now, const NetCounters& before, double attached_fraction);

// Cumulative slots → window histogram (one slot array + sum in ns).
LatencyHistogram histogram_delta(const std::uint64_t* now, const std::uint64_t* before,
                                 std::uint64_t now_sum_ns, std::uint64_t before_sum_ns);

// Adds `d` to the dependency that `endpoint` is named as: an existing entry of that
// name (the one procfs created), else a new entry while fewer than max(1, max_names)
// named ones exist, else "other" (created if needed, `folded` counting the endpoints
// it took). Histograms are set only when they hold something.
void add_to_dependencies(std::vector<DependencyWindow>& deps, const Endpoint& endpoint,
                         const NetDelta& d, const std::vector<DependencyRule>& rules,
                         int max_names);

}  // namespace boundwise::ebpf
