// Config loading: every key, the defaults, and every error kind with its position.
#include "config/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include "collectors/collector.hpp"
#include "collectors/ebpf/ebpf_collector.hpp"
#include "collectors/registry.hpp"

namespace boundwise {
namespace {

// The config as the agent parses it: with every registered collector.
Config parse(std::string_view yaml, const std::string& file) {
  return parse_config(yaml, file, collector_descriptors());
}

// Expects parse_config to fail at line:col with a message containing `phrase`.
void expect_error(const std::string& yaml, int line, int col, const std::string& phrase) {
  try {
    parse(yaml, "test.yaml");
    FAIL() << "no error for:\n" << yaml;
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.file(), "test.yaml");
    EXPECT_EQ(e.line(), line) << e.what();
    EXPECT_EQ(e.column(), col) << e.what();
    EXPECT_NE(std::string(e.what()).find(phrase), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).rfind("test.yaml:" + std::to_string(line) + ":", 0), 0u);
  }
}

TEST(Config, EmbeddedDefaultEqualsStructDefaults) {
  Config parsed = parse(default_config_yaml(collector_descriptors()), "<default>");
  Config defaults;
  EXPECT_EQ(parsed.listen_host, defaults.listen_host);
  EXPECT_EQ(parsed.listen_port, defaults.listen_port);
  EXPECT_EQ(parsed.window, defaults.window);
  EXPECT_EQ(parsed.sample_rate_hz, defaults.sample_rate_hz);
  EXPECT_EQ(parsed.discovery_interval, defaults.discovery_interval);
  EXPECT_EQ(parsed.max_workloads, 20);
  EXPECT_EQ(parsed.max_dependencies_per_workload, 10);
  EXPECT_TRUE(parsed.targets.empty());
  EXPECT_EQ(parsed.listen_host, "127.0.0.1");  // loopback by default
  // The options the embedded default writes out are the descriptors' defaults.
  CollectorSettings written;
  written.options = parsed.collector_options;
  EbpfOptions from_default = ebpf_options(written);
  EbpfOptions from_descriptor = ebpf_options(CollectorSettings{});
  EXPECT_EQ(from_default.budget_cores, from_descriptor.budget_cores);
  EXPECT_EQ(from_default.net_source, from_descriptor.net_source);
  EXPECT_EQ(from_default.per_run_overhead_ns, from_descriptor.per_run_overhead_ns);
  EXPECT_EQ(parsed.collector_options.at("ebpf").size(), ebpf_descriptor().options.size());
  EXPECT_TRUE(parsed.collectors_enabled.empty());  // every collector at its default
  EXPECT_EQ(parsed.max_open_files, defaults.max_open_files);
  EXPECT_EQ(parse("max_open_files: 4096\n", "t").max_open_files, 4096);
  EXPECT_EQ(parsed.record, "");  // recording off
  EXPECT_EQ(parsed.record_max_bytes, defaults.record_max_bytes);
  EXPECT_EQ(defaults.record_max_bytes, 64u << 20);
}

TEST(Config, EveryKey) {
  Config c = parse(R"(
listen: "[::1]:9100"
window: 30s
sample_rate: 50
discovery_interval: 500ms
max_workloads: 5
max_dependencies: 3
proc_root: /host/proc
log_level: debug
targets:
  - name: api
    pid: 1234
  - name: workers
    comm: "^gunicorn"
  - name: jobs
    cmdline: "celery .* worker"
dependencies:
  - name: orders-db
    endpoint: "10.0.0.5:5432"
  - name: cache
    endpoint: "10.1.0.0/16:6379"
collectors:
  procfs: {enabled: true}
  node: {enabled: false}
  ebpf_syscalls: {enabled: false}
ebpf:
  budget_cores: 0.05
  net_source: syscalls
  per_run_overhead_ns: 120
record: /var/lib/boundwise/record
record_max_bytes: 16MiB
)",
                   "x.yaml");
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_EQ(c.listen_port, 9100);
  EXPECT_EQ(c.window, std::chrono::seconds(30));
  EXPECT_EQ(c.sample_rate_hz, 50);
  EXPECT_EQ(c.discovery_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(c.max_workloads, 5);
  EXPECT_EQ(c.max_dependencies_per_workload, 3);
  EXPECT_EQ(c.proc_root, "/host/proc");
  EXPECT_EQ(c.log_level, "debug");
  ASSERT_EQ(c.targets.size(), 3u);
  EXPECT_EQ(c.targets[0].pid, 1234);
  EXPECT_EQ(c.targets[1].comm_regex, "^gunicorn");
  EXPECT_EQ(c.targets[2].cmdline_regex, "celery .* worker");
  ASSERT_EQ(c.dependencies.size(), 2u);
  EXPECT_EQ(c.dependencies[1].name, "cache");
  EXPECT_EQ(c.dependencies[1].prefix_length, 16);
  EXPECT_FALSE(c.collectors_enabled.at("node"));
  EXPECT_TRUE(c.collectors_enabled.at("procfs"));
  EXPECT_FALSE(c.collectors_enabled.at("ebpf_syscalls"));
  CollectorSettings settings;
  settings.options = c.collector_options;
  EbpfOptions ebpf = ebpf_options(settings);
  EXPECT_DOUBLE_EQ(ebpf.budget_cores, 0.05);
  EXPECT_EQ(ebpf.net_source, "syscalls");
  EXPECT_EQ(ebpf.per_run_overhead_ns, 120);
  EXPECT_EQ(c.record, "/var/lib/boundwise/record");
  EXPECT_EQ(c.record_max_bytes, 16u << 20);
}

TEST(Config, Record) {
  EXPECT_EQ(parse("record: \"\"\n", "t").record, "");  // empty: off
  EXPECT_EQ(parse("record:\n", "t").record, "");       // null: off
  EXPECT_EQ(parse("record: rec\n", "t").record, "rec");
  EXPECT_EQ(parse("record_max_bytes: 1048576\n", "t").record_max_bytes, 1u << 20);
  EXPECT_EQ(parse("record_max_bytes: 2048KiB\n", "t").record_max_bytes, 2u << 20);
  EXPECT_EQ(parse("record_max_bytes: 1TiB\n", "t").record_max_bytes, 1ull << 40);
  EXPECT_EQ(parse_byte_size("3GiB"), 3ull << 30);
  EXPECT_EQ(parse_byte_size("0"), 0u);
  for (const char* bad : {"", "MiB", "1.5MiB", "-1", "1 MiB", "1mb", "1M", "99999999999999999999",
                          "17179869184GiB"}) {
    EXPECT_FALSE(parse_byte_size(bad)) << bad;
  }
}

TEST(Config, StateDirAndMaxBaselines) {
  Config defaults;
  EXPECT_EQ(defaults.state_dir, "/var/lib/boundwise");
  EXPECT_EQ(defaults.max_baselines, 100);
  Config embedded = parse(default_config_yaml(collector_descriptors()), "<default>");
  EXPECT_EQ(embedded.state_dir, defaults.state_dir);
  EXPECT_EQ(embedded.max_baselines, defaults.max_baselines);
  Config c = parse("state_dir: /srv/boundwise\nmax_baselines: 7\n", "t");
  EXPECT_EQ(c.state_dir, "/srv/boundwise");
  EXPECT_EQ(c.max_baselines, 7);
  expect_error("state_dir: \"\"\n", 1, 12, "must be a directory path");
  expect_error("state_dir: [a]\n", 1, 12, "scalar");
  expect_error("max_baselines: 0\n", 1, 16, "between 1 and 10000");
  expect_error("max_baselines: lots\n", 1, 16, "must be an integer");
}

TEST(Config, EmptyFileIsTheDefaults) {
  Config c = parse("", "empty.yaml");
  EXPECT_EQ(c.listen_port, 9977);
}

TEST(Config, Errors) {
  expect_error("listen: \"127.0.0.1:9977\"\nwindoww: 10s\n", 2, 1, "unknown key \"windoww\"");
  expect_error("sample_rate: fast\n", 1, 14, "must be an integer");
  expect_error("sample_rate: 0\n", 1, 14, "between 1 and 1000");
  expect_error("sample_rate: [1]\n", 1, 14, "scalar");
  expect_error("window: 10 parsecs\n", 1, 9, "bad duration");
  expect_error("window: 0s\n", 1, 9, "bad duration");
  expect_error("listen: somewhere\n", 1, 9, "bad address");
  expect_error("targets:\n  - name: api\n    comm: \"([a-z\"\n", 3, 11, "bad regex");
  expect_error("targets:\n  - name: api\n", 2, 5, "needs one of pid, comm or cmdline");
  expect_error("targets:\n  - pid: 3\n", 2, 5, "no \"name\"");
  expect_error("targets:\n  - name: a b\n    pid: 3\n", 2, 11, "must be 1-64 characters");
  expect_error("targets:\n  - name: a\n    pid: 1\n    comm: x\n", 2, 5, "more than one");
  expect_error("targets:\n  - name: a\n    pid: 1\n  - name: a\n    pid: 2\n", 4, 11,
               "duplicate target");
  expect_error("targets:\n  - name: a\n    pid: 1\n    colour: red\n", 4, 5,
               "unknown key \"colour\"");
  expect_error("targets: 3\n", 1, 10, "must be a list");
  expect_error("dependencies:\n  - name: db\n    endpoint: \"10.0.0.5:99999\"\n", 3, 15,
               "bad port");
  expect_error("dependencies:\n  - name: db\n    endpoint: \"db.local:5432\"\n", 3, 15,
               "not an IP address");
  expect_error("dependencies:\n  - name: db\n", 2, 5, "no \"endpoint\"");
  expect_error("log_level: chatty\n", 1, 12, "log_level");
  expect_error("- a\n- b\n", 1, 1, "top level must be a map");
  expect_error("targets: [1, 2\nwindow: 10s\n", 2, 7, "YAML syntax");
  expect_error("collectors:\n  procfs: {enabled: maybe}\n", 2, 21, "true or false");
  expect_error("collectors:\n  ebpf_sycalls: {enabled: false}\n", 2, 3,
               "unknown collector \"ebpf_sycalls\"");
  expect_error("ebpf:\n  budget_cores: 0\n", 2, 17, "above 0");
  expect_error("ebpf:\n  budget_cores: 1%\n", 2, 17, "number of CPU cores");
  expect_error("ebpf:\n  net_source: kprobes\n", 2, 15, "auto, tracepoints or syscalls");
  expect_error("ebpf:\n  per_run_overhead_ns: -5\n", 2, 24, "between 0 and 100000");
  expect_error("ebpf:\n  per_run_overhead_ns: 0.3us\n", 2, 24, "must be an integer");
  expect_error("ebpf:\n  budget: 1\n", 2, 3, "unknown key \"budget\"");
  expect_error("window: 1s\ndiscovery_interval: 5s\n", 2, 21, "must not be longer");
  expect_error("max_open_files: 8\n", 1, 17, "at least 16");
  expect_error("max_open_files: -1\n", 1, 17, "between 0 and 10000000");
  expect_error("record: [a, b]\n", 1, 9, "\"record\" must be a scalar");
  expect_error("record_max_bytes: 1000\n", 1, 19, "from 1MiB to 1TiB");
  expect_error("record_max_bytes: 2TiB\n", 1, 19, "from 1MiB to 1TiB");
  expect_error("record_max_bytes: lots\n", 1, 19, "got \"lots\"");
  expect_error("recrd: /tmp\n", 1, 1, "unknown key \"recrd\"");
}

TEST(Config, UnreadableFile) {
  try {
    load_config_file("/nonexistent/boundwise.yaml", collector_descriptors());
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/nonexistent/boundwise.yaml:1:1: cannot read the file: No such file or directory");
  }
}

// Not a file the agent can use: a clear error at once (a FIFO must not hang the read).
TEST(Config, DirectoriesFifosAndHugeFilesAreRefused) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("config-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path fifo = dir / "fifo.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::path huge = dir / "huge.yaml";
  std::ofstream(huge) << std::string(2 << 20, '#');
  const std::pair<fs::path, const char*> cases[] = {
      {dir, "is a directory"}, {fifo, "not a regular file"}, {huge, "larger than 1 MiB"}};
  for (const auto& [path, phrase] : cases) {
    try {
      load_config_file(path.string(), collector_descriptors());
      ADD_FAILURE() << path << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(phrase), std::string::npos) << e.what();
      EXPECT_EQ(e.line(), 1);
    }
  }
  fs::remove_all(dir);
}

TEST(Config, DurationsAndListenAddresses) {
  EXPECT_EQ(parse_duration("10s"), std::chrono::seconds(10));
  EXPECT_EQ(parse_duration("250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(parse_duration("2m"), std::chrono::minutes(2));
  EXPECT_EQ(parse_duration("1h"), std::chrono::hours(1));
  for (const char* bad : {"", "s", "10", "1.5s", "-1s", "10S", "10 s", "99999999999s"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
  EXPECT_EQ(parse_listen_address("0.0.0.0:9977")->second, 9977);
  EXPECT_EQ(parse_listen_address("[::]:80")->first, "::");
  EXPECT_EQ(parse_listen_address("127.0.0.1:0")->second, 0);
  EXPECT_FALSE(parse_listen_address("localhost:9977"));
  EXPECT_FALSE(parse_listen_address("127.0.0.1"));
}

// A collector the config loader has never heard of: its descriptor alone makes its
// section, options, bounds and switch valid (what adding a collector relies on).
TEST(Config, ANewCollectorIsValidatedFromItsDescriptorAlone) {
  using Type = OptionSpec::Type;
  const CollectorDescriptor sketch{
      .name = "sketch",
      .help = "call sketches",
      .enabled_by_default = false,
      .parts = {{"sketch_offcpu", true, "off-CPU sketch"}},
      .options = {{.key = "frequency_hz",
                   .type = Type::kInteger,
                   .default_value = "19",
                   .min = 1,
                   .max = 1000,
                   .help = "samples per second and thread"}},
  };
  CollectorDescriptors list = collector_descriptors();
  list.push_back(&sketch);
  Config c = parse_config(
      "collectors:\n  sketch: {enabled: true}\n  sketch_offcpu: {enabled: false}\n"
      "sketch:\n  frequency_hz: 99\n",
      "t.yaml", list);
  EXPECT_TRUE(c.collectors_enabled.at("sketch"));
  EXPECT_FALSE(c.collectors_enabled.at("sketch_offcpu"));
  CollectorSettings settings;
  settings.options = c.collector_options;
  EXPECT_EQ(settings.options_for(sketch).integer("frequency_hz"), 99);
  EXPECT_EQ(CollectorSettings{}.options_for(sketch).integer("frequency_hz"), 19);
  EXPECT_THROW((void)settings.options_for(sketch).integer("frequency"), std::logic_error);
  try {
    parse_config("sketch:\n  frequency_hz: 0\n", "t.yaml", list);
    ADD_FAILURE() << "frequency_hz 0 accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.line(), 2);
    EXPECT_NE(std::string(e.what()).find("between 1 and 1000"), std::string::npos) << e.what();
  }
  // Without the descriptor, the same text is an unknown key.
  EXPECT_THROW(parse_config("sketch:\n  frequency_hz: 99\n", "t.yaml", collector_descriptors()),
               ConfigError);
  // The default config lists it, off, with its option and help.
  std::string yaml = default_config_yaml(list);
  EXPECT_NE(yaml.find("#   sketch         (off) call sketches"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("sketch:\n  # samples per second and thread\n  frequency_hz: 19\n"),
            std::string::npos)
      << yaml;
}

// Every registered descriptor: a unique name, a factory, and defaults its own specs
// accept (a bad default would throw at the first read, in production).
TEST(Config, RegisteredDescriptorsAreConsistent) {
  std::set<std::string> names;
  for (const auto& name : collector_and_part_names(collector_descriptors())) {
    EXPECT_TRUE(names.insert(name).second) << "duplicate " << name;
  }
  for (const auto* d : collector_descriptors()) {
    EXPECT_NE(d->factory, nullptr) << d->name;
    EXPECT_FALSE(d->help.empty()) << d->name;
    for (const auto& spec : d->options) {
      auto parsed = parse_option(spec, spec.default_value);
      EXPECT_TRUE(parsed.ok()) << d->name << "." << spec.key << ": "
                               << (parsed ? "" : parsed.error().message);
      EXPECT_FALSE(spec.help.empty()) << d->name << "." << spec.key;
    }
  }
  EXPECT_FALSE(enabled_by_default(collector_descriptors(), "ebpf_syscalls"));
  EXPECT_TRUE(enabled_by_default(collector_descriptors(), "ebpf_sched"));
  EXPECT_FALSE(enabled_by_default(collector_descriptors(), "no_such_collector"));
}

// A target's `slo:`: durations for the latencies, requests/s for the throughput.
TEST(Config, TargetObjectives) {
  Config c = parse(
      "targets:\n"
      "  - name: api\n"
      "    comm: gunicorn\n"
      "    slo: {latency_p95: 300ms, latency_p99: 1s, throughput_min: 50/s}\n"
      "  - name: batch\n"
      "    pid: 7\n",
      "t");
  ASSERT_EQ(c.targets.size(), 2u);
  EXPECT_DOUBLE_EQ(*c.targets[0].slo.latency_p95_seconds, 0.3);
  EXPECT_DOUBLE_EQ(*c.targets[0].slo.latency_p99_seconds, 1.0);
  EXPECT_DOUBLE_EQ(*c.targets[0].slo.throughput_min_per_second, 50);
  EXPECT_TRUE(c.targets[1].slo.empty());
  EXPECT_DOUBLE_EQ(*parse("targets:\n  - {name: a, pid: 1, slo: {throughput_min: 2.5}}\n", "t")
                        .targets[0]
                        .slo.throughput_min_per_second,
                   2.5);
  const std::string head = "targets:\n  - name: api\n    pid: 1\n    slo:";
  expect_error(head + " 300ms\n", 4, 10, "\"slo\" must be a map");
  expect_error(head + " {}\n", 4, 10, "\"slo\" must be a map");
  expect_error(head + " {latency_p95: fast}\n", 4, 24, "bad duration");
  expect_error(head + " {throughput_min: 0}\n", 4, 27, "above 0, e.g. 50/s");
  expect_error(head + " {throughput_min: 5/m}\n", 4, 27, "got \"5/m\"");
  expect_error(head + " {p95: 1s}\n", 4, 11, "unknown key \"p95\" in \"slo\"");
}

// `cost:` prices the options in /recommend; every field optional, bounded, positioned
// errors for the rest.
TEST(Config, CostPrices) {
  Config c = parse("cost: {cpu_core_hour: 0.04, memory_gib_hour: 0.005, currency: EUR}\n", "t");
  EXPECT_DOUBLE_EQ(c.cost.cpu_core_hour, 0.04);
  EXPECT_DOUBLE_EQ(c.cost.memory_gib_hour, 0.005);
  EXPECT_EQ(c.cost.currency, "EUR");
  Config defaults = parse("", "t");
  EXPECT_EQ(defaults.cost, Prices{});
  EXPECT_EQ(parse("cost:\n  cpu_core_hour: 1e-3\n", "t").cost.currency, "USD");
  expect_error("cost: 3\n", 1, 7, "\"cost\" must be a map");
  expect_error("cost:\n  cpu_core_hour: cheap\n", 2, 18, "must be a number from 0 to 1e+06");
  expect_error("cost:\n  cpu_core_hour: -1\n", 2, 18, "got \"-1\"");
  expect_error("cost:\n  memory_gib_hour: nan\n", 2, 20, "must be a number");
  expect_error("cost:\n  currency: \"$\"\n", 2, 13, "1-8 letters");
  expect_error("cost:\n  cpu_hour: 1\n", 2, 3, "unknown key \"cpu_hour\" in \"cost\"");
}

}  // namespace
}  // namespace boundwise
