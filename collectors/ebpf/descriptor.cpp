// The ebpf collector's descriptor and options: compiled in the stub build too, so that
// a config written for a BPF-enabled build is valid on every build.
#include "collectors/ebpf/ebpf_collector.hpp"

namespace boundwise {

const CollectorDescriptor& ebpf_descriptor() {
  using Type = OptionSpec::Type;
  static const CollectorDescriptor d{
      .name = "ebpf",
      .help = "exact off-CPU, run-queue, socket and disk latency from tracepoints",
      .parts =
          {
              {"ebpf_sched", true, "off-CPU thread time by state, run-queue latency"},
              {"ebpf_net", true, "request latency per dependency and inbound port"},
              // Off by default: its sys_enter/sys_exit hooks cost every syscall of the
              // host, mostly in the tracepoint dispatch the budget cannot see
              // (docs/BENCHMARKS.md).
              {"ebpf_syscalls", false, "syscall latency by class (costly: it hooks every syscall)"},
              {"ebpf_disk", true, "block request latency of the requests a workload submits"},
          },
      .options =
          {
              {.key = "budget_cores",
               .type = Type::kNumber,
               .default_value = "0.01",
               .min = 0,
               .max = 64,
               .min_exclusive = true,
               .what = "a number of CPU cores (0.01 = 1 % of one core)",
               .help = "CPU all BPF programs together may use, in cores. The costliest tools "
                       "(syscalls, then disk, net, sched) are duty-cycled to stay within it."},
              {.key = "net_source",
               .type = Type::kChoice,
               .default_value = "auto",
               .choices = {"auto", "tracepoints", "syscalls"},
               .help = "Socket traffic for dependency/inbound latency: auto, tracepoints "
                       "(kernel 6.3+) or syscalls (any kernel, costlier)."},
              {.key = "per_run_overhead_ns",
               .type = Type::kInteger,
               .default_value = "200",
               .min = 0,
               .max = 100'000,
               .help = "Cost of one BPF program run beyond what the kernel's run-time stats "
                       "time (dispatch, clock reads, cache/TLB misses), charged to the budget "
                       "per run, in ns."},
          },
      .factory = make_ebpf_collector,
  };
  return d;
}

EbpfOptions ebpf_options(const CollectorSettings& settings) {
  Options o = settings.options_for(ebpf_descriptor());
  return {o.number("budget_cores"), o.text("net_source"),
          static_cast<double>(o.integer("per_run_overhead_ns"))};
}

}  // namespace boundwise
