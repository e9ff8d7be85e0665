// Prometheus rendering helpers; see prometheus_util.hpp.
#include "daemon/prometheus_util.hpp"

#include <cmath>
#include <cstdint>

#include "classifier/numbers.hpp"

namespace boundwise::prom {

using prometheus::Histogram;

// Label values must be UTF-8 (promtool and Prometheus reject anything else), but a
// workload named after a process comm can hold any byte: replace invalid sequences
// with U+FFFD, as the JSON encoder of /recommend does.
std::string utf8(const std::string& in) {
  std::string out;
  out.reserve(in.size());
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  std::size_t n = in.size();
  for (std::size_t i = 0; i < n;) {
    unsigned char c = p[i];
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    bool ok = len != 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) ok = (p[i + k] & 0xC0) == 0x80;
    if (ok && len > 1) {
      // Reject overlong forms, surrogates and code points above U+10FFFF.
      std::uint32_t cp = c & (0xFF >> (len + 1));
      for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (p[i + k] & 0x3Fu);
      static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= kMin[len] && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    }
    if (ok) {
      out.append(in, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// Prometheus bucket bounds on LatencyHistogram slot edges (powers of two in µs),
// 2^lo .. 2^hi µs, so that every bucket is exact.
namespace {

Histogram::BucketBoundaries power_of_two_bounds(int lo, int hi) {
  Histogram::BucketBoundaries b;
  for (int e = lo; e <= hi; ++e) b.push_back(std::ldexp(1.0, e) * 1e-6);
  return b;
}

Histogram::BucketBoundaries power_and_half_bounds(int lo, int hi) {
  Histogram::BucketBoundaries b;
  for (int e = lo; e <= hi; ++e) {
    b.push_back(std::ldexp(1.0, e) * 1e-6);
    if (e < hi) b.push_back(std::ldexp(1.5, e) * 1e-6);
  }
  return b;
}

}  // namespace

// Run-queue waits: 4 µs .. ~1 s.
const Histogram::BucketBoundaries kRunqueueBounds = power_of_two_bounds(2, 20);

// Syscalls: 1 µs .. 16 s in powers of four (a futex or poll wait can last seconds; 11
// classes per workload, so fewer buckets than the run queue's).
const Histogram::BucketBoundaries kSyscallBounds = [] {
  Histogram::BucketBoundaries b;
  for (int e = 0; e <= 24; e += 2) b.push_back(std::ldexp(1.0, e) * 1e-6);
  return b;
}();

// Block requests: 8 µs (NVMe) .. ~4 s.
const Histogram::BucketBoundaries kDiskBounds = power_of_two_bounds(3, 22);
// Request, connect and inbound latencies: 2^e and 1.5 × 2^e µs (both slot edges, so
// exact), 64 µs .. ~50 s: steps of 1.33x and 1.5x, fine enough for p95 within ~20 %.
const Histogram::BucketBoundaries kRequestBounds = power_and_half_bounds(6, 25);

// A procfs-only dependency's waits as a histogram, so that the metric is a histogram
// whichever collector measured it.
LatencyHistogram histogram_of(const std::vector<double>& seconds) {
  LatencyHistogram h;
  for (double v : seconds) h.add(v);
  return h;
}

// Adds one window's histogram to a Prometheus histogram with `bounds`.
void observe(Histogram& h, const Histogram::BucketBoundaries& bounds, const LatencyHistogram& in) {
  std::vector<double> increments;
  increments.reserve(bounds.size() + 1);
  std::uint64_t below = 0;
  for (double bound : bounds) {
    std::uint64_t at = in.count_at_or_below(bound);
    increments.push_back(static_cast<double>(at - below));
    below = at;
  }
  increments.push_back(static_cast<double>(in.count() - below));
  h.ObserveMultiple(increments, non_negative(in.sum_seconds));
}

}  // namespace boundwise::prom
