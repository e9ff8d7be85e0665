#include "collectors/stacks/stacks_collector.hpp"

namespace boundwise {

const CollectorDescriptor& stacks_descriptor() {
  static const CollectorDescriptor d{
      .name = "stacks",
      .help =
          "on-CPU call stacks of the targets' threads (perf cpu-clock samples unwound "
          "with libunwind) and off-CPU stacks of their blocked threads by the reason of the "
          "wait, served as folded stacks and flame graphs by GET /profile and as the top "
          "stacks in /recommend",
      // Off until its cost on busy many-threaded targets is measured (docs/COLLECTORS.md).
      .enabled_by_default = false,
      .options =
          {
              {.key = "frequency_hz",
               .type = OptionSpec::Type::kInteger,
               .default_value = "19",
               .min = 1,
               .max = 999,
               .help = "Samples per second of CPU time, per thread. 19 (not 20) so that "
                       "sampling does not beat with timers of round periods."},
              {.key = "stack_bytes",
               .type = OptionSpec::Type::kInteger,
               .default_value = "8192",
               .min = 1024,
               .max = 65528,
               .help = "Bytes of user stack copied per sample (rounded down to 8): deeper "
                       "stacks are cut (boundwise_unwind_failures_total{cause="
                       "\"stack_truncated\"}); the copy is the main cost of a sample."},
              {.key = "max_threads",
               .type = OptionSpec::Type::kInteger,
               .default_value = "256",
               .min = 1,
               .max = 16384,
               .help = "Threads sampled at most, over all targets (each holds a perf event "
                       "and a ring of about 64 KiB); further threads are not sampled."},
              {.key = "offcpu_hz",
               .type = OptionSpec::Type::kInteger,
               .default_value = "2",
               .min = 0,
               .max = 20,
               .help = "Rounds per second of off-CPU stacks: each round copies and unwinds "
                       "the stacks of blocked target threads (read from "
                       "/proc/TID/syscall and process_vm_readv). 0: no off-CPU stacks."},
              {.key = "offcpu_max_threads",
               .type = OptionSpec::Type::kInteger,
               .default_value = "64",
               .min = 1,
               .max = 16384,
               .help = "Threads visited at most per off-CPU round, taken in turn over all "
                       "targets' threads (a stack then weighs the threads left out)."},
              {.key = "profile_seconds",
               .type = OptionSpec::Type::kInteger,
               .default_value = "60",
               .min = 1,
               .max = 3600,
               .help = "How much recent history GET /profile folds: the last windows "
                       "covering at least this many seconds."},
          },
      .factory = make_stacks_collector,
  };
  return d;
}

}  // namespace boundwise
