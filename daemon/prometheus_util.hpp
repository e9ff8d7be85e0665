// Helpers for rendering the agent's numbers as Prometheus series: label values made
// valid UTF-8, the bucket bounds of each latency histogram (on LatencyHistogram slot
// edges, so every bucket is exact), and adding one window's histogram to a
// prometheus-cpp histogram.
#pragma once

#include <prometheus/histogram.h>

#include <string>
#include <vector>

#include "classifier/histogram.hpp"

namespace boundwise::prom {

// `in` with every invalid UTF-8 sequence replaced by U+FFFD (promtool and Prometheus
// reject label values that are not UTF-8; a comm can hold any byte).
std::string utf8(const std::string& in);

// Bucket bounds, in seconds.
extern const prometheus::Histogram::BucketBoundaries kRunqueueBounds;  // 4 µs .. ~1 s
extern const prometheus::Histogram::BucketBoundaries kSyscallBounds;   // 1 µs .. 16 s, x4
extern const prometheus::Histogram::BucketBoundaries kDiskBounds;      // 8 µs .. ~4 s
extern const prometheus::Histogram::BucketBoundaries kRequestBounds;   // 64 µs .. ~50 s

// Blocked-interval lengths as a histogram (a procfs-only dependency's latency).
LatencyHistogram histogram_of(const std::vector<double>& seconds);

// Adds one window's histogram to a Prometheus histogram with `bounds`.
void observe(prometheus::Histogram& h, const prometheus::Histogram::BucketBoundaries& bounds,
             const LatencyHistogram& in);

}  // namespace boundwise::prom
