// Pure parts of the net tool; see net_counters.hpp.
#include "collectors/ebpf/net_counters.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "collectors/counter_delta.hpp"

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

std::optional<MeasuredDependency> net_delta(const NetCounters& now, const NetCounters& before,
                                            double attached_fraction) {
  const double f = attached_fraction > 0 ? attached_fraction : 1.0;
  auto request_latency =
      histogram_delta(now.req_slots, before.req_slots, now.req_sum_ns, before.req_sum_ns);
  auto connect_latency =
      histogram_delta(now.conn_slots, before.conn_slots, now.conn_sum_ns, before.conn_sum_ns);
  auto requests = counter_delta(now.requests, before.requests);
  auto bytes_sent = counter_delta(now.bytes_sent, before.bytes_sent);
  auto bytes_received = counter_delta(now.bytes_received, before.bytes_received);
  if (!request_latency || !connect_latency || !requests || !bytes_sent || !bytes_received) {
    return std::nullopt;  // one map entry: one went backwards, the entry was recreated
  }
  MeasuredDependency d;
  d.request_latency = std::move(*request_latency);
  d.connect_latency = std::move(*connect_latency);
  d.requests = static_cast<double>(*requests) / f;
  d.bytes_sent = static_cast<double>(*bytes_sent) / f;
  d.bytes_received = static_cast<double>(*bytes_received) / f;
  return d;
}

InboundCounters counters_of(const bw_inbound_stats& s) {
  InboundCounters c;
  std::copy(std::begin(s.slots), std::end(s.slots), c.slots.begin());
  std::copy(std::begin(s.total_slots), std::end(s.total_slots), c.total_slots.begin());
  c.sum_ns = s.sum_ns;
  c.requests = s.requests;
  c.total_sum_ns = s.total_sum_ns;
  c.arrivals = s.arrivals;
  return c;
}

bool inbound_delta(const InboundCounters& now, const InboundCounters& before,
                   double attached_fraction, MeasuredNet& out) {
  const double f = attached_fraction > 0 ? attached_fraction : 1.0;
  auto service = histogram_delta(now.slots, before.slots, now.sum_ns, before.sum_ns);
  auto total =
      histogram_delta(now.total_slots, before.total_slots, now.total_sum_ns, before.total_sum_ns);
  auto requests = counter_delta(now.requests, before.requests);
  auto arrivals = counter_delta(now.arrivals, before.arrivals);
  if (!service || !total || !requests || !arrivals) return false;  // recreated: no value
  if (service->count() == 0 && *arrivals == 0) return false;
  out.inbound_arrivals = static_cast<double>(*arrivals) / f;
  if (service->count() == 0) return true;  // connections arrived, none served yet
  // Equal sums: no request waited to be accepted, the two histograms are one.
  if (total->count() == service->count() && total->sum_seconds > service->sum_seconds) {
    out.inbound_total_latency = std::move(*total);
  }
  out.inbound_latency = std::move(*service);
  out.inbound_requests = static_cast<double>(*requests) / f;
  return true;
}

}  // namespace boundwise::ebpf
