// Evidence for the record and replay tests: one window with every field of every
// part set to something other than its default (so a field the JSON forgot shows up
// as a difference), and small windows that classify as a known class.
#pragma once

#include <chrono>
#include <string>

#include "daemon/evidence_json.hpp"

namespace boundwise::test {

inline Endpoint endpoint(const std::string& text) { return *Endpoint::parse(text); }

inline LatencyHistogram histogram(std::initializer_list<double> seconds) {
  LatencyHistogram h;
  for (double s : seconds) h.add(s);
  return h;
}

inline SampledEvidence full_sampled() {
  SampledEvidence s;
  for (std::size_t i = 0; i < kReasonCount; ++i)
    s.thread_seconds[i] = 0.25 * static_cast<double>(i + 1) + 1e-9;
  s.parked_threads = 2;
  s.sample_rounds = 51;
  s.cpu_seconds = 1.0 / 3;
  s.runqueue_seconds = 0.1;
  s.voluntary_switches = 123456789012345ull;
  s.involuntary_switches = 7;
  s.major_faults = 8;
  s.read_bytes = 1ull << 40;
  s.write_bytes = 4096;
  s.threads = 9;
  s.processes = 3;
  s.pids = {10, 11, 4194304};
  s.event_loop = true;
  s.established_connections = 12;
  s.busy_threads_max = 4;
  s.memory = {1000, 900, 800, 100, 3};
  s.dependencies[endpoint("10.0.0.5:5432")] = {1.5, {0.2, 0.3, 1e-7}};
  s.dependencies[endpoint("[2001:db8::7]:443")] = {0.5, {}};
  // An IPv4-mapped IPv6 endpoint is not the same key as its IPv4 address.
  s.dependencies[endpoint("[::ffff:10.0.0.5]:5432")] = {0.25, {0.25}};
  return s;
}

inline MeasuredOffCpu full_offcpu() {
  MeasuredOffCpu m;
  m.interruptible = 1.25;
  m.uninterruptible = 0.5;
  m.preempted = 0.125;
  m.woken = 0.0625;
  m.other = 0.01;
  m.gil = 0.75;
  m.gil_exact = true;
  m.runqueue_latency = histogram({1e-6, 2e-6, 3e-3});
  return m;
}

inline MeasuredNet full_net() {
  MeasuredNet n;
  MeasuredDependency d;
  d.request_latency = histogram({0.2, 0.21, 0.4});
  d.connect_latency = histogram({1e-4});
  d.requests = 12.5;  // divided by the attached fraction
  d.bytes_sent = 1e6;
  d.bytes_received = 2.5e6;
  n.dependencies[endpoint("10.0.0.5:5432")] = d;
  n.dependencies[endpoint("[::1]:6379")] = MeasuredDependency{};  // empty histograms
  LatencyHistogram last_slot;
  last_slot.slots.back() = 3;  // the very last slot: nothing trimmed that holds a count
  last_slot.sum_seconds = 9e9;
  n.dependencies[endpoint("[fe80::1]:8080")].request_latency = last_slot;
  n.inbound_latency = histogram({0.01, 0.02});
  n.inbound_requests = 33.3;
  n.inbound_total_latency = histogram({0.03, 0.5});
  n.inbound_arrivals = 41.5;
  return n;
}

inline MeasuredIo full_io() {
  MeasuredIo io;
  io.syscall_latency["read"] = histogram({1e-5});
  io.syscall_latency["fsync"] = histogram({2e-3, 4e-3});
  io.disk_latency = histogram({5e-4});
  return io;
}

inline RuntimeEvidence full_runtime() {
  RuntimeEvidence r;
  r.runtime = {"python", "3.12.1", true, true, "forkserver", "gunicorn", 4, 8};
  r.gil.measured = true;
  r.gil.samples = 100;
  r.gil.locked_samples = 60;
  r.gil.held_seconds = 0.6;
  r.gil.waiters_mean = 1.5;
  r.gil.switches = 999;
  r.gil.holder_threads = 3;
  r.gil.wait_measured_in_kernel = true;  // assemble() resets it; the evidence keeps it
  return r;
}

inline NodeWindow full_node() {
  NodeWindow n;
  n.cores = 2;
  n.cpu_busy_ratio = 0.61;
  n.load1 = 1.5;
  n.runnable_tasks = 3;
  n.cpu_pressure_some = 0.1;
  n.io_pressure_some = 0.2;
  n.memory_pressure_some = 0.3;
  n.memory_pressure_full = 0.05;
  n.pressure_available = true;
  n.pressure_totals["cpu"] = {12.5, 0};
  n.pressure_totals["io"] = {3, 1.5};
  n.bpf_programs["sched_switch"] = {0.75, 123456};
  n.ebpf_duty["sched"] = 1;
  n.ebpf_duty["syscalls"] = 0.25;
  n.unwind_seconds = 0.125;
  n.unwind_failures["no_unwind_info"] = 3;
  return n;
}

// Two workloads: "api" with every part, "bare" with none.
inline RecordedWindow full_window() {
  RecordedWindow w;
  w.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1777777777123));
  w.window = 42;
  w.rules.dependencies = {*DependencyRule::parse("orders-db", "10.0.0.0/24:5432"),
                          *DependencyRule::parse("cache", "[2001:db8::/32]:443")};
  w.rules.max_dependencies_per_workload = 2;
  w.evidence.node = full_node();
  WorkloadEvidence& api = w.evidence.workloads["api"];
  api.workload = "api";
  api.duration_seconds = 10.000123;
  api.sampled = full_sampled();
  api.offcpu = full_offcpu();
  api.net = full_net();
  api.io = full_io();
  api.runtime = full_runtime();
  api.cpu_limit = CpuLimit{0.5, "/kubepods/burstable/pod1/ctr", true, 100, 76, 1.625};
  api.cpu_stacks = FoldedStacks{{{"main;handle;compute", 7}, {"main;idle", 2}}, 9, 9};
  api.offcpu_stacks = FoldedStacks{{{"[net orders-db];main;fetch;recv", 850}}, 850, 4};
  api.gil_stacks = FoldedStacks{{{"Thread.run;outer (app.py:9);inner (app.py:3)", 12}}, 12, 12};
  WorkloadEvidence& bare = w.evidence.workloads["bare"];
  bare.workload = "bare";
  bare.duration_seconds = 10;
  return w;
}

// One thread on CPU for the whole window: cpu_bound.
inline WorkloadEvidence busy_workload(const std::string& name) {
  WorkloadEvidence e;
  e.workload = name;
  e.duration_seconds = 10;
  e.sampled.emplace();
  e.sampled->thread_seconds[index_of(Reason::on_cpu)] = 10;
  e.sampled->cpu_seconds = 10;
  e.sampled->sample_rounds = 50;
  e.sampled->threads = 1;
  e.sampled->processes = 1;
  e.sampled->busy_threads_max = 1;
  return e;
}

// Threads waiting for work the whole window: idle.
inline WorkloadEvidence idle_workload(const std::string& name) {
  WorkloadEvidence e = busy_workload(name);
  e.sampled->thread_seconds = {};
  e.sampled->thread_seconds[index_of(Reason::idle)] = 20;
  e.sampled->cpu_seconds = 0;
  e.sampled->threads = 2;
  e.sampled->busy_threads_max = 0;
  return e;
}

inline RecordedWindow small_window(std::uint64_t number) {
  RecordedWindow w;
  w.time = std::chrono::system_clock::time_point(std::chrono::seconds(1777777000 + number));
  w.window = number;
  w.evidence.node.cores = 2;
  w.evidence.node.cpu_busy_ratio = 0.5;
  w.evidence.workloads["cpu"] = busy_workload("cpu");
  w.evidence.workloads["quiet"] = idle_workload("quiet");
  return w;
}

}  // namespace boundwise::test
