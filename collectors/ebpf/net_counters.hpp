// The pure part of the net tool (net.cpp): kernel endpoint keys → Endpoint and
// cumulative counters → window deltas (by the rule of collectors/counter_delta.hpp).
// Naming and capping dependencies is assemble()'s (classifier/assemble/). No libbpf, no I/O:
// unit-tested in tests/unit/collectors/net_test.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "classifier/assemble/evidence.hpp"
#include "classifier/endpoint.hpp"
#include "classifier/histogram.hpp"
#include "collectors/ebpf/kernel_histogram.hpp"
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

// One window of one endpoint: counts divided by the attached fraction (duty
// cycling); the histograms are what was measured (an unbiased sample).
// (previous, current) → delta; std::nullopt when any counter went backwards (the map
// entry was recreated), by the rule of collectors/counter_delta.hpp.
// attached_fraction <= 0 is taken as 1.
std::optional<MeasuredDependency> net_delta(const NetCounters& now, const NetCounters& before,
                                            double attached_fraction);

// Cumulative inbound counters of one workload (bw_inbound_stats).
struct InboundCounters {
  std::array<std::uint64_t, BW_LATENCY_SLOTS> slots{};
  std::uint64_t sum_ns = 0;
  std::uint64_t requests = 0;
  std::array<std::uint64_t, BW_LATENCY_SLOTS> total_slots{};
  std::uint64_t total_sum_ns = 0;
  std::uint64_t arrivals = 0;
};
InboundCounters counters_of(const bw_inbound_stats& s);

// The requests a workload served in one window, written into `out`'s inbound fields:
// the service latency, the latency from arrival (set only when some request waited to
// be accepted: otherwise it is the service latency), the requests and the connections
// that arrived (counts divided by the attached fraction). False, and `out` untouched,
// when a counter went backwards or nothing arrived or was served.
bool inbound_delta(const InboundCounters& now, const InboundCounters& before,
                   double attached_fraction, MeasuredNet& out);

}  // namespace boundwise::ebpf
