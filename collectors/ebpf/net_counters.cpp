// Pure parts of the net tool; see net_counters.hpp.
#include "collectors/ebpf/net_counters.hpp"

#include <algorithm>
#include <cstring>

#include "collectors/ebpf/tool.hpp"

namespace boundwise::ebpf {

Endpoint endpoint_of(const bw_net_key& key) {
  Endpoint e;
  e.port = key.port;
  if (key.family == BW_NET_FAMILY_V6) {
    e.address.family = IpAddress::Family::v6;
    std::memcpy(e.address.bytes.data(), key.addr, 16);
    e.address = e.address.unmapped();
  } else {
    e.address.family = IpAddress::Family::v4;
    std::memcpy(e.address.bytes.data(), key.addr, 4);
  }
  return e;
}

NetCounters counters_of(const bw_net_stats& s) {
  NetCounters c;
  std::copy(std::begin(s.req_slots), std::end(s.req_slots), c.req_slots.begin());
  std::copy(std::begin(s.conn_slots), std::end(s.conn_slots), c.conn_slots.begin());
  c.req_sum_ns = s.req_sum_ns;
  c.requests = s.requests;
  c.bytes_sent = s.bytes_sent;
  c.bytes_received = s.bytes_received;
  c.conn_sum_ns = s.conn_sum_ns;
  return c;
}

LatencyHistogram histogram_delta(const std::uint64_t* now, const std::uint64_t* before,
                                 std::uint64_t now_sum_ns, std::uint64_t before_sum_ns) {
  static_assert(BW_LATENCY_SLOTS == kLatencySlots, "latency_slots.h and histogram.hpp disagree");
  LatencyHistogram h;
  for (std::size_t i = 0; i < kLatencySlots; ++i) h.slots[i] = delta(now[i], before[i]);
  h.sum_seconds = static_cast<double>(delta(now_sum_ns, before_sum_ns)) / 1e9;
  return h;
}

MeasuredDependency net_delta(const NetCounters& now, const NetCounters& before,
                             double attached_fraction) {
  const double f = attached_fraction > 0 ? attached_fraction : 1.0;
  MeasuredDependency d;
  d.request_latency = histogram_delta(now.req_slots.data(), before.req_slots.data(), now.req_sum_ns,
                                      before.req_sum_ns);
  d.connect_latency = histogram_delta(now.conn_slots.data(), before.conn_slots.data(),
                                      now.conn_sum_ns, before.conn_sum_ns);
  d.requests = static_cast<double>(delta(now.requests, before.requests)) / f;
  d.bytes_sent = static_cast<double>(delta(now.bytes_sent, before.bytes_sent)) / f;
  d.bytes_received = static_cast<double>(delta(now.bytes_received, before.bytes_received)) / f;
  return d;
}

}  // namespace boundwise::ebpf
