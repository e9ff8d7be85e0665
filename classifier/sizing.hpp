// Capacity arithmetic shared by recommend() and the option scoring (options.hpp): the
// cores a workload can use, Amdahl's law for CPU work, and Little's law for the
// concurrency I/O work needs. Pure functions of a verdict and its window; every
// result carries the inputs it was computed from, for the evidence.
#pragma once

#include <cstdint>
#include <string>

#include "classifier/verdict.hpp"
#include "classifier/window.hpp"

namespace boundwise {

namespace sizing {
// Workers are sized so that the measured demand keeps them this busy: the 20 %
// left absorbs bursts and the latency of an M/M/c queue stays near its service time
// (at 80 % utilisation the queueing delay of a pool of 8 or more is a few percent
// of it; it grows steeply beyond 90 %).
inline constexpr double kTargetUtilisation = 0.8;
// Workers busy this much of the time are saturated: the demand they see is what
// they let through, not what is offered, so it is a lower bound.
inline constexpr double kSaturatedUtilisation = 0.9;
}  // namespace sizing

// The node's idle cores over the window (a busy ratio that is not one counts as 0).
double idle_cores(const WorkloadWindow& w);

// The cores this workload could use: its own plus the node's idle ones, capped by the
// node's cores and by its cgroup CPU limit. Other work's busy cores are not available
// to a new process of this workload, whatever its own run-queue share.
double available_cores(const Verdict& v, const WorkloadWindow& w);
// "cores available: 1.50 = own 1.00 + idle 0.50 of the node's 2[, capped by ...]".
std::string available_cores_text(const Verdict& v, const WorkloadWindow& w);

// The workload's memory (PSS, else RSS, over its processes), and that over the
// processes measured: a worker process's share, for projected costs.
std::uint64_t workload_memory_bytes(const WorkloadWindow& w);
std::uint64_t memory_per_process(const WorkloadWindow& w);
// What one more worker process would add: with several processes measured, their
// mean private memory (USS) — forked workers share the rest, which is counted once
// already; with one (or USS unreadable), memory_per_process(): a new interpreter
// shares little with it.
std::uint64_t memory_per_added_process(const WorkloadWindow& w);

// Amdahl's law: the speed-up over one core of work whose `serial` share cannot run in
// parallel, on `cores` cores: 1 / (serial + (1 − serial) / cores). Inputs are clamped
// to serial ∈ [0,1], cores ≥ 1.
double amdahl(double serial, double cores);

// The concurrency an I/O-bound workload has and needs, by Little's law: requests in
// flight = arrival rate × time per request.
struct IoDemand {
  // Where the rate came from: "inbound" (requests the workload served, eBPF),
  // "dependencies" (requests it sent, eBPF) or "sampled" (no request counts: the
  // in-flight figure is the sampled mean of active threads).
  std::string source = "sampled";
  double rate_per_second = 0;      // λ: requests per second (0 when sampled)
  double seconds_per_request = 0;  // W: mean time per request (0 when sampled)
  double measured_in_flight = 0;   // λ × W (0 when sampled)
  double active_threads = 0;       // sampled: mean threads not idle or sleeping
  // L: the larger of the two. Both estimate the requests in flight; a window's edges
  // cut requests out of the count, and an event loop's tasks are not threads.
  double in_flight = 0;
  // Inbound only: requests served per second, when fewer than arrived (λ is then the
  // arrival rate: the offered demand, connections queued for accept() included), and
  // the requests in flight that served (served × W, at least the active threads).
  // Without a backlog, served_rate_per_second = rate_per_second and
  // served_in_flight = in_flight.
  double served_rate_per_second = 0;
  double served_in_flight = 0;
  bool backlog = false;    // connections arrived faster than they were served
  int workers_now = 0;     // threads (or worker threads) serving it; 0 = unknown
  double utilisation = 0;  // in_flight / workers_now; 0 when unknown
  bool saturated = false;  // utilisation ≥ kSaturatedUtilisation
  // Share of active thread time that needs a CPU (on CPU, run queue, GIL): the "C" of
  // W/C. The concurrency that keeps `cores` busy is cores / cpu_share (Goetz's rule).
  double cpu_share = 0;
  int workers = 0;             // the count to recommend, within [kMinIoWorkers, kMaxIoWorkers]
  bool capped_by_cpu = false;  // the demand asked for more than the cores sustain
};

// `cores`: what the recommended model can keep busy (1 for Python threads under the
// GIL, the available cores otherwise).
IoDemand io_demand(const Verdict& v, const WorkloadWindow& w, double cores);

// The concurrency `cores` sustain at the demand's CPU share: cores / cpu_share, or
// kMaxIoWorkers when the work barely computes.
double cpu_sustained_concurrency(const IoDemand& d, double cores);

// One evidence sentence with the inputs, e.g. "Little's law: 40.0 requests/s (eBPF,
// requests to dependencies) × 0.200 s = 8.0 in flight on 8 workers (100 % busy) → 10
// workers at 80 % utilisation".
std::string io_demand_text(const IoDemand& d);

}  // namespace boundwise
