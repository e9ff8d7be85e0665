// boundwise: command line, configuration, logging, and the exit codes
// (0 ok, 1 runtime failure such as a port in use, 2 bad configuration or arguments).
// Subcommands run instead of the agent: `boundwise replay` runs recorded windows offline
// (daemon/replay.hpp); `boundwise status`, `explain`, `baseline` and `compare` ask a
// running agent (daemon/cli.hpp, with their own exit codes 3-6).
#include <malloc.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "collectors/registry.hpp"
#include "config/config.hpp"
#include "daemon/agent.hpp"
#include "daemon/build_info.hpp"
#include "daemon/cli.hpp"
#include "daemon/crash_handler.hpp"
#include "daemon/privileges.hpp"
#include "daemon/replay.hpp"

namespace {

// One logger per part of the daemon and per collector (named as its descriptor).
void setup_logging(const std::string& level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  std::vector<std::string> names = {"agent", "discovery", "http"};
  for (const auto* d : boundwise::collector_descriptors()) names.push_back(d->name);
  for (const auto& name : names) {
    auto l = std::make_shared<spdlog::logger>(name, sink);
    spdlog::register_logger(l);
  }
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("boundwise", sink));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %n: %v");
  spdlog::set_level(spdlog::level::from_str(level));
}

// Raises the soft open-files limit to the hard one (systemd's default soft limit is
// 1024 whatever the hard limit): the procfs collector sizes its kept-open files from it.
void raise_open_files_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  rlim_t was = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    spdlog::get("agent")->info("open-files limit raised from {} to {} (the hard limit)", was,
                               limit.rlim_max);
  }
}

// The --help footer: every collector and part, and every collector option, from the
// descriptors.
std::string collectors_help() {
  std::string out =
      "\nCollectors (config `collectors: {NAME: {enabled: BOOL}}`, --disable-collector):\n";
  const auto& all = boundwise::collector_descriptors();
  auto row = [&](const std::string& name, bool on, const std::string& help) {
    out += "  " + name + std::string(name.size() < 15 ? 15 - name.size() : 1, ' ') +
           (on ? "" : "(off by default) ") + help + "\n";
  };
  for (const auto* d : all) {
    row(d->name, d->enabled_by_default, d->help);
    for (const auto& p : d->parts) row(p.name, p.enabled_by_default, p.help);
  }
  for (const auto* d : all) {
    for (const auto& o : d->options) {
      out +=
          "\n  " + d->name + "." + o.key + " (default " + o.default_value + "): " + o.help + "\n";
    }
  }
  return out;
}

// Everything the command line sets.
struct Args {
  std::string config_file;
  std::string check_file;
  std::string listen;
  std::string window;
  int sample_rate = 0;
  bool sample_rate_set = false;
  std::string log_level;
  bool print_default = false;
  bool version = false;
  bool check_privs = false;
  std::vector<std::string> disabled_collectors;
  std::string replay_path;
  bool replay_json = false;
  boundwise::cli::ClientOptions client;
  boundwise::cli::StatusOptions status;
  double watch_interval_seconds = 2;
  std::string explain_workload;
  boundwise::cli::BaselineOptions baseline;
  boundwise::cli::CompareOptions compare;
};

struct Subcommands {
  CLI::App* replay = nullptr;
  CLI::App* status = nullptr;
  CLI::App* explain = nullptr;
  CLI::App* baseline = nullptr;
  CLI::App* compare = nullptr;
};

// The options every client subcommand takes: where the agent is and how to reach it.
void add_client_options(CLI::App& sub, boundwise::cli::ClientOptions& client) {
  sub.add_option("--url", client.url,
                 "the agent: http[s]://HOST[:PORT] (default http://127.0.0.1:9977)");
  sub.add_option("--bearer-token-file", client.bearer_token_file,
                 "a file holding the token of the agent's web.bearer_token_file");
  sub.add_option("--basic-auth-user", client.basic_auth_user,
                 "a user of the agent's web.basic_auth_users (with --basic-auth-password-file)");
  sub.add_option("--basic-auth-password-file", client.basic_auth_password_file,
                 "a file holding that user's password (its first line)");
  sub.add_option("--ca-file", client.ca_file,
                 "PEM CA bundle to verify an https agent's certificate (default: the system's)");
}

// The options and the subcommands.
Subcommands add_options(CLI::App& app, Args& a, const std::string& known_collectors) {
  app.add_option("-c,--config", a.config_file, "YAML configuration file");
  app.add_option("--check-config", a.check_file,
                 "validate FILE and exit: 0 if valid, 2 with FILE:LINE:COL: error if not");
  app.add_option("--listen", a.listen, "HOST:PORT to serve on (overrides the file)");
  app.add_option("--window", a.window, "classification window, e.g. 10s (overrides the file)");
  app.add_option("--sample-rate", a.sample_rate,
                 "thread-state samples per second (overrides the file)");
  app.add_option("--log-level", a.log_level, "trace, debug, info, warn or error");
  app.add_option("--disable-collector", a.disabled_collectors,
                 "turn a collector or one of its parts off (overrides the file; repeatable): " +
                     known_collectors);
  app.footer(collectors_help());
  app.add_flag("--print-default-config", a.print_default, "print the embedded default config");
  app.add_flag("--version", a.version, "print the version, git commit, build type and compiler");
  app.add_flag("--check-privileges", a.check_privs,
               "print which capabilities and kernel features this host grants the agent, "
               "what each buys and what degrades without it, and exit");
  CLI::App* replay = app.add_subcommand(
      "replay",
      "run recorded windows (the `record:` setting) offline through assemble, classify and "
      "recommend, and print each workload's class, confidence, model and summary; exit 2 on a "
      "missing path or a malformed line");
  replay
      ->add_option("DIR_OR_FILE", a.replay_path,
                   "a recording file, or a directory: its *.jsonl files in name order")
      ->required();
  replay->add_flag("--json", a.replay_json, "one JSON object per window and line");

  CLI::App* status = app.add_subcommand(
      "status",
      "ask a running agent and print one row per workload: class, confidence, model, workers, "
      "cores used, top wait with its dependency and p95, state");
  add_client_options(*status, a.client);
  status->add_option("--workload", a.status.workload, "only this workload");
  status->add_flag("--json", a.status.json, "the agent's /recommend JSON as it is");
  status->add_flag("--watch", a.status.watch, "redraw until interrupted (Ctrl-C)");
  status->add_option("--interval", a.watch_interval_seconds, "seconds between --watch redraws")
      ->check(CLI::Range(0.1, 3600.0));
  status->footer(boundwise::cli::exit_codes_help());

  CLI::App* explain = app.add_subcommand(
      "explain",
      "ask a running agent for one workload's full reasoning: summary, evidence, thread time "
      "by reason, dependencies, risks, options and steps");
  explain->add_option("WORKLOAD", a.explain_workload, "the workload's name")->required();
  add_client_options(*explain, a.client);
  explain->footer(boundwise::cli::exit_codes_help());

  CLI::App* baseline = app.add_subcommand(
      "baseline",
      "store a workload's figures now (throughput, latency, cores, memory, cost: the mean of "
      "its last windows) under NAME in the agent's state_dir, to compare with after a change");
  baseline->add_option("WORKLOAD", a.baseline.workload, "the workload's name")->required();
  baseline->add_option("NAME", a.baseline.name, "the baseline's name: 1 to 64 of A-Z a-z 0-9 . _ -")
      ->required();
  baseline->add_option("--windows", a.baseline.windows, "windows to average (default 6)")
      ->check(CLI::Range(1, 60));
  baseline->add_flag("--delete", a.baseline.remove, "delete the baseline instead");
  add_client_options(*baseline, a.client);
  baseline->footer(boundwise::cli::exit_codes_help());

  CLI::App* compare = app.add_subcommand(
      "compare",
      "compare a workload now with a stored baseline: throughput, p50/p95/p99, cores, memory "
      "and cost before and now, and a verdict (improved, regressed, mixed, unchanged)");
  compare->add_option("WORKLOAD", a.compare.workload, "the workload's name")->required();
  compare->add_option("BASELINE", a.compare.baseline, "the baseline's name")->required();
  compare->add_option("--windows", a.compare.windows, "windows to average now (default 6)")
      ->check(CLI::Range(1, 60));
  compare->add_flag("--json", a.compare.json, "the agent's /compare JSON as it is");
  add_client_options(*compare, a.client);
  compare->footer(boundwise::cli::exit_codes_help());

  app.require_subcommand(0, 1);
  return {replay, status, explain, baseline, compare};
}

// Command-line settings that override the file's, validated once and applied to
// every (re)load.
struct Overrides {
  std::optional<std::pair<std::string, std::uint16_t>> listen;
  std::optional<std::chrono::milliseconds> window;
  std::optional<int> sample_rate;
  std::string log_level;
  std::vector<std::string> disabled_collectors;

  void apply(boundwise::Config& c) const {
    if (listen) {
      c.listen_host = listen->first;
      c.listen_port = listen->second;
    }
    if (window) c.window = *window;
    if (sample_rate) c.sample_rate_hz = *sample_rate;
    if (c.discovery_interval > c.window) c.discovery_interval = c.window;
    if (!log_level.empty()) c.log_level = log_level;
    for (const auto& name : disabled_collectors) c.collectors_enabled[name] = false;
  }
};

// The overrides, or the message for a bad one ("--window: bad duration …").
std::variant<Overrides, std::string> overrides(const Args& a) {
  Overrides o;
  if (!a.listen.empty()) {
    o.listen = boundwise::parse_listen_address(a.listen);
    if (!o.listen) return "--listen: bad address \"" + a.listen + "\" (HOST:PORT or [V6]:PORT)";
  }
  if (!a.window.empty()) {
    o.window = boundwise::parse_duration(a.window);
    if (!o.window) return "--window: bad duration \"" + a.window + "\" (e.g. 10s, 500ms, 1m)";
  }
  if (a.sample_rate_set) {
    if (a.sample_rate < 1 || a.sample_rate > 1000) {
      return std::string("--sample-rate: must be between 1 and 1000");
    }
    o.sample_rate = a.sample_rate;
  }
  if (!a.log_level.empty() && spdlog::level::from_str(a.log_level) == spdlog::level::off &&
      a.log_level != "off") {
    return std::string("--log-level: must be one of trace, debug, info, warn, error");
  }
  o.log_level = a.log_level;
  const auto known = boundwise::collector_and_part_names(boundwise::collector_descriptors());
  for (const auto& name : a.disabled_collectors) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return "--disable-collector: unknown collector \"" + name + "\" (known: " + list + ")";
    }
  }
  o.disabled_collectors = a.disabled_collectors;
  return o;
}

// Starts the agent, drops privileges, serves until stopped. The exit code.
int run_agent(const std::string& config_file, const Overrides& overrides) {
  auto load = [config_file, overrides]() {
    const auto& collectors = boundwise::collector_descriptors();
    boundwise::Config c = config_file.empty()
                              ? boundwise::parse_config(boundwise::default_config_yaml(collectors),
                                                        "<embedded default>", collectors)
                              : boundwise::load_config_file(config_file, collectors);
    overrides.apply(c);
    return c;
  };
  boundwise::Config config;
  try {
    config = load();
  } catch (const boundwise::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  setup_logging(config.log_level);
  auto log = spdlog::get("agent");
  log->info("boundwise {} (commit {}) starting (config: {})", BOUNDWISE_VERSION,
            boundwise::build_info().commit, config_file.empty() ? "embedded default" : config_file);
  raise_open_files_limit();
  std::string run_as_user = config.run_as_user;
  boundwise::Agent agent(std::move(config), config_file.empty() ? boundwise::ConfigLoader{} : load);
  if (auto started = agent.start(); !started) {
    log->error("{}", started.error().message);
    return 1;
  }
  // Everything that needs privilege beyond the kept capabilities (binding the port,
  // loading BPF programs) is done: drop the rest.
  for (const auto& fact : boundwise::check_privileges()) {
    if (!fact.available) {
      log->warn("{} unavailable: {} (boundwise --check-privileges)", fact.name, fact.without);
    }
  }
  if (auto dropped = boundwise::drop_privileges(run_as_user); !dropped) {
    log->error("dropping privileges: {}", dropped.error().message);
    return 1;
  }
  log->info("running as uid {} with only the capabilities it uses{}", ::getuid(),
            run_as_user.empty() ? "" : " (run_as_user " + run_as_user + ")");
  int code = agent.run();
  log->info("stopped");
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  // A crash writes the signal and a backtrace to stderr before the process dies of it.
  boundwise::install_crash_handler();
  // Large transient buffers (libbpf parses the kernel's BTF, ~5.5 MB, once per tool that
  // probes it; the ELF reader's symbol tables) must go back to the system when freed.
  // glibc's dynamic threshold rises to the size of the first such buffer freed, after
  // which the next ones come from the heap and stay in the agent's RSS (+5 MiB
  // measured, docs/BENCHMARKS.md): a fixed threshold keeps them mmap()ed.
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  CLI::App app{
      "boundwise: tells, per workload on this host, whether it is CPU-bound or I/O-bound, why, "
      "and which concurrency model serves it.\nServes /metrics (Prometheus), /recommend "
      "(JSON) and a web page at /; `status`, `explain`, `baseline` and `compare` read a running "
      "agent. Without --config "
      "it uses an embedded default that auto-discovers the busiest "
      "process trees."};
  Args args;
  std::string known;
  for (const auto& name : boundwise::collector_and_part_names(boundwise::collector_descriptors())) {
    known += (known.empty() ? "" : ", ") + name;
  }
  Subcommands sub = add_options(app, args, known);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  args.sample_rate_set = app.count("--sample-rate") > 0;

  if (*sub.replay)
    return boundwise::run_replay(args.replay_path, args.replay_json, std::cout, std::cerr);
  if (*sub.status || *sub.explain || *sub.baseline || *sub.compare) {
    args.client.terminal = ::isatty(STDOUT_FILENO) == 1;
    if (*sub.baseline) {
      return boundwise::cli::run_baseline(args.client, args.baseline, std::cout, std::cerr);
    }
    if (*sub.compare) {
      return boundwise::cli::run_compare(args.client, args.compare, std::cout, std::cerr);
    }
    if (*sub.explain) {
      return boundwise::cli::run_explain(args.client, args.explain_workload, std::cout, std::cerr);
    }
    args.status.interval =
        std::chrono::milliseconds(static_cast<long long>(args.watch_interval_seconds * 1000));
    return boundwise::cli::run_status(args.client, args.status, std::cout, std::cerr);
  }
  if (args.version) {
    std::cout << boundwise::version_text(boundwise::build_info());
    return 0;
  }
  if (args.check_privs) {
    std::cout << boundwise::format_privileges(boundwise::check_privileges());
    return 0;
  }
  if (args.print_default) {
    std::cout << boundwise::default_config_yaml(boundwise::collector_descriptors());
    return 0;
  }
  if (!args.check_file.empty()) {
    try {
      boundwise::load_config_file(args.check_file, boundwise::collector_descriptors());
    } catch (const boundwise::ConfigError& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
    std::cout << args.check_file << ": ok\n";
    return 0;
  }
  auto checked = overrides(args);
  if (const auto* error = std::get_if<std::string>(&checked)) {
    std::cerr << *error << "\n";
    return 2;
  }
  return run_agent(args.config_file, std::get<Overrides>(checked));
}
