// The field lists of the evidence structs, for record and replay's JSON
// (evidence_json.cpp): the JSON name of each field and the field, in declaration
// order. One list drives both the writer and the reader (`v(name, field)` writes or
// reads it), so a field cannot be written and then forgotten when read back. Private
// to evidence_json.cpp; a header only to keep that file short.
#pragma once

#include <concepts>
#include <type_traits>

#include "classifier/assemble/evidence.hpp"

namespace boundwise::evidence_fields {

template <class S, class T>
concept Is = std::same_as<std::remove_const_t<S>, T>;

// The field lists: the JSON name of each field and the field, in declaration order.
// `v(name, field)` writes or reads it.

template <class V, Is<MemoryUsage> S>
void fields(V& v, S& m) {
  v("rss_bytes", m.rss_bytes);
  v("pss_bytes", m.pss_bytes);
  v("uss_bytes", m.uss_bytes);
  v("shared_bytes", m.shared_bytes);
  v("processes_measured", m.processes_measured);
}

template <class V, Is<SampledEvidence::Dependency> S>
void fields(V& v, S& d) {
  v("wait_seconds", d.wait_seconds);
  v("blocked_intervals_seconds", d.blocked_intervals_seconds);
}

template <class V, Is<SampledEvidence> S>
void fields(V& v, S& s) {
  v("thread_seconds", s.thread_seconds);
  v("parked_threads", s.parked_threads);
  v("sample_rounds", s.sample_rounds);
  v("cpu_seconds", s.cpu_seconds);
  v("runqueue_seconds", s.runqueue_seconds);
  v("voluntary_switches", s.voluntary_switches);
  v("involuntary_switches", s.involuntary_switches);
  v("major_faults", s.major_faults);
  v("read_bytes", s.read_bytes);
  v("write_bytes", s.write_bytes);
  v("threads", s.threads);
  v("processes", s.processes);
  v("pids", s.pids);
  v("event_loop", s.event_loop);
  v("established_connections", s.established_connections);
  v("busy_threads_max", s.busy_threads_max);
  v("memory", s.memory);
  v("dependencies", s.dependencies);
}

template <class V, Is<MeasuredOffCpu> S>
void fields(V& v, S& m) {
  v("interruptible", m.interruptible);
  v("uninterruptible", m.uninterruptible);
  v("preempted", m.preempted);
  v("woken", m.woken);
  v("other", m.other);
  v("gil", m.gil);
  v("gil_exact", m.gil_exact);
  v("runqueue_latency", m.runqueue_latency);
}

template <class V, Is<MeasuredDependency> S>
void fields(V& v, S& d) {
  v("request_latency", d.request_latency);
  v("connect_latency", d.connect_latency);
  v("requests", d.requests);
  v("bytes_sent", d.bytes_sent);
  v("bytes_received", d.bytes_received);
}

template <class V, Is<MeasuredNet> S>
void fields(V& v, S& n) {
  v("dependencies", n.dependencies);
  v("inbound_latency", n.inbound_latency);
  v("inbound_requests", n.inbound_requests);
  v("inbound_total_latency", n.inbound_total_latency);
  v("inbound_arrivals", n.inbound_arrivals);
}

template <class V, Is<MeasuredIo> S>
void fields(V& v, S& io) {
  v("syscall_latency", io.syscall_latency);
  v("disk_latency", io.disk_latency);
}

template <class V, Is<RuntimeInfo> S>
void fields(V& v, S& r) {
  v("kind", r.kind);
  v("version", r.version);
  v("free_threaded", r.free_threaded);
  v("gil_readable", r.gil_readable);
  v("start_method", r.start_method);
  v("server", r.server);
  v("worker_processes", r.worker_processes);
  v("max_worker_threads", r.max_worker_threads);
}

template <class V, Is<GilWindow> S>
void fields(V& v, S& g) {
  v("measured", g.measured);
  v("samples", g.samples);
  v("locked_samples", g.locked_samples);
  v("held_seconds", g.held_seconds);
  v("waiters_mean", g.waiters_mean);
  v("switches", g.switches);
  v("holder_threads", g.holder_threads);
  v("wait_measured_in_kernel", g.wait_measured_in_kernel);
}

template <class V, Is<RuntimeEvidence> S>
void fields(V& v, S& r) {
  v("runtime", r.runtime);
  v("gil", r.gil);
}

template <class V, Is<CpuLimit> S>
void fields(V& v, S& c) {
  v("cores", c.cores);
  v("cgroup", c.cgroup);
  v("counters_valid", c.counters_valid);
  v("periods", c.periods);
  v("throttled_periods", c.throttled_periods);
  v("throttled_seconds", c.throttled_seconds);
}

template <class V, Is<WorkloadEvidence> S>
void fields(V& v, S& e) {
  v("workload", e.workload);
  v("duration_seconds", e.duration_seconds);
  v("sampled", e.sampled);
  v("offcpu", e.offcpu);
  v("net", e.net);
  v("io", e.io);
  v("runtime", e.runtime);
  v("cpu_limit", e.cpu_limit);
  v("cpu_stacks", e.cpu_stacks);
  v("offcpu_stacks", e.offcpu_stacks);
  v("gil_stacks", e.gil_stacks);
}

template <class V, Is<FoldedStacks> S>
void fields(V& v, S& f) {
  v("counts", f.counts);
  v("samples", f.samples);
  v("taken", f.taken);
}

template <class V, Is<PressureTotals> S>
void fields(V& v, S& p) {
  v("some_seconds", p.some_seconds);
  v("full_seconds", p.full_seconds);
}

template <class V, Is<NodeWindow::BpfProgramStats> S>
void fields(V& v, S& b) {
  v("run_seconds", b.run_seconds);
  v("runs", b.runs);
}

template <class V, Is<NodeWindow> S>
void fields(V& v, S& n) {
  v("cores", n.cores);
  v("cpu_busy_ratio", n.cpu_busy_ratio);
  v("load1", n.load1);
  v("runnable_tasks", n.runnable_tasks);
  v("cpu_pressure_some", n.cpu_pressure_some);
  v("io_pressure_some", n.io_pressure_some);
  v("memory_pressure_some", n.memory_pressure_some);
  v("memory_pressure_full", n.memory_pressure_full);
  v("pressure_available", n.pressure_available);
  v("pressure_totals", n.pressure_totals);
  v("bpf_programs", n.bpf_programs);
  v("ebpf_duty", n.ebpf_duty);
  v("unwind_seconds", n.unwind_seconds);
  v("unwind_failures", n.unwind_failures);
}

// A struct that changed size has most likely gained or lost a field: update its list
// above, then these sizes (a field that fits in padding slips through; the round-trip
// test in tests/unit/daemon/evidence_json_test.cpp sets every field). Checked where
// the sizes were taken (x86-64, libstdc++).
#if defined(__x86_64__) && defined(__GLIBCXX__)
static_assert(sizeof(MemoryUsage) == 40);
static_assert(sizeof(SampledEvidence::Dependency) == 32);
static_assert(sizeof(SampledEvidence) == 296);
static_assert(sizeof(MeasuredOffCpu) == 96);
static_assert(sizeof(MeasuredDependency) == 88);
static_assert(sizeof(MeasuredNet) == 144);
static_assert(sizeof(MeasuredIo) == 88);
static_assert(sizeof(RuntimeInfo) == 144);
static_assert(sizeof(GilWindow) == 56);
static_assert(sizeof(RuntimeEvidence) == 200);
static_assert(sizeof(CpuLimit) == 72);
static_assert(sizeof(FoldedStacks) == 64);
static_assert(sizeof(WorkloadEvidence) == 1200);
static_assert(sizeof(PressureTotals) == 16);
static_assert(sizeof(NodeWindow::BpfProgramStats) == 16);
static_assert(sizeof(NodeWindow) == 272);
#endif

// Any type with a field list.
struct Probe {
  template <class T>
  void operator()(const char*, T&) {}
};
template <class T>
concept HasFields = requires(Probe& p, T& t) {
  fields(p, t);
};

}  // namespace boundwise::evidence_fields
