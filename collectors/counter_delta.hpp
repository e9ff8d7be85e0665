// Cumulative counter → window delta, with one rule for a counter that went backwards.
// Every collector that turns a cumulative counter (schedstat, /proc/PID/stat and io,
// /proc/stat, PSI totals, a BPF map entry) into a window's number goes through here.
//
// The rule: a window's value is (now − before). A counter that went backwards was reset
// (a BPF map entry evicted and recreated, a workload id reused, a counter that restarted
// with its task): what it counted since the reset is only part of the window, so the
// window gets no value for it (std::nullopt), never a negative, wrapped or partial
// count. The caller keeps `now` as its baseline all the same, so the next window diffs
// from the new value. No baseline yet (std::nullopt before) also gives no value.
//
// Counters read together from one source (one map entry, one histogram, one file)
// share that fate: if any of them went backwards the source was reset and none gives a
// value (the std::array overload; several scalars: all or none, at the caller).
//
// Pure, standard library only; the rule is tested in
// tests/unit/collectors/counter_delta_test.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <type_traits>

namespace boundwise {

template <typename T>
concept CounterValue = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

// now − before; std::nullopt when the counter went backwards (now < before).
template <CounterValue T>
constexpr std::optional<T> counter_delta(T now, T before) {
  if (now < before) return std::nullopt;
  return static_cast<T>(now - before);
}

// As above; std::nullopt also when there is no baseline yet.
template <CounterValue T>
constexpr std::optional<T> counter_delta(T now, const std::optional<T>& before) {
  if (!before) return std::nullopt;
  return counter_delta(now, *before);
}

// Element-wise, for counters read together: std::nullopt when any went backwards.
template <CounterValue T, std::size_t N>
constexpr std::optional<std::array<T, N>> counter_delta(const std::array<T, N>& now,
                                                        const std::array<T, N>& before) {
  std::array<T, N> out{};
  for (std::size_t i = 0; i < N; ++i) {
    auto d = counter_delta(now[i], before[i]);
    if (!d) return std::nullopt;
    out[i] = *d;
  }
  return out;
}

}  // namespace boundwise
