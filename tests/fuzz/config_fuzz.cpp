// libFuzzer target for the config loader: any bytes give a Config or a ConfigError
// with a position. Anything else escaping (another exception, a crash) is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.hpp"

namespace {

// This build has no collectors (only pure code): one descriptor with an option of each
// type stands in for them, so that collector sections and switches are fuzzed too.
const boundwise::CollectorDescriptor kCollector{
    .name = "ebpf",
    .help = "stand-in",
    .parts = {{"ebpf_net", true, "part"}},
    .options = {{.key = "budget_cores",
                 .type = boundwise::OptionSpec::Type::kNumber,
                 .default_value = "0.01",
                 .min = 0,
                 .max = 64,
                 .min_exclusive = true},
                {.key = "net_source",
                 .type = boundwise::OptionSpec::Type::kChoice,
                 .default_value = "auto",
                 .choices = {"auto", "syscalls"}},
                {.key = "per_run_overhead_ns",
                 .type = boundwise::OptionSpec::Type::kInteger,
                 .default_value = "200",
                 .min = 0,
                 .max = 100000}},
};
const boundwise::CollectorDescriptors kCollectors = {&kCollector};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    boundwise::parse_config(std::string(reinterpret_cast<const char*>(data), size), "fuzz.yaml",
                            kCollectors);
  } catch (const boundwise::ConfigError& e) {
    if (e.line() < 1 || e.column() < 1) __builtin_trap();
  }
  return 0;
}
