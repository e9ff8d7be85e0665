/* Latency histogram slots shared by every BPF tool and by the classifier's
 * LatencyHistogram (classifier/histogram.hpp mirrors bw_latency_slot(); a unit test
 * checks that the two agree).
 *
 * Log-linear slots over microseconds: values below 8 µs get one slot per µs; above,
 * every power of two is split into 8 equal slots, so a slot is at most 12.5 % wide
 * (quantiles read from it are within ~6 % of the truth). Slot s >= 8 covers
 * [(8 + s % 8) << (s / 8 - 1), (9 + s % 8) << (s / 8 - 1)) µs; the last slot also
 * takes everything from 15 << 24 µs (252 s) up. */
#ifndef BOUNDWISE_EBPF_LATENCY_SLOTS_H
#define BOUNDWISE_EBPF_LATENCY_SLOTS_H

#define BW_LATENCY_SLOTS 208

/* floor(log2(v)) for v > 0, without loops (the verifier likes straight code). */
static inline unsigned int bw_log2(unsigned long long v) {
  unsigned int r = 0, shift;
  shift = (v > 0xFFFFFFFFULL) << 5;
  v >>= shift;
  r |= shift;
  shift = (v > 0xFFFF) << 4;
  v >>= shift;
  r |= shift;
  shift = (v > 0xFF) << 3;
  v >>= shift;
  r |= shift;
  shift = (v > 0xF) << 2;
  v >>= shift;
  r |= shift;
  shift = (v > 0x3) << 1;
  v >>= shift;
  r |= shift;
  r |= (unsigned int)(v >> 1);
  return r;
}

static inline unsigned int bw_latency_slot(unsigned long long ns) {
  unsigned long long us = ns / 1000;
  unsigned int k, slot;
  if (us < 8) return (unsigned int)us;
  k = bw_log2(us); /* >= 3 */
  slot = (k - 2) * 8 + (unsigned int)((us >> (k - 3)) & 7);
  return slot < BW_LATENCY_SLOTS ? slot : BW_LATENCY_SLOTS - 1;
}

#endif
