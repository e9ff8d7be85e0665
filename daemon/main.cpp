// boundwise: command line, configuration, logging, and the exit codes
// (0 ok, 1 runtime failure such as a port in use, 2 bad configuration or arguments).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "config/config.hpp"
#include "daemon/agent.hpp"

namespace {

void setup_logging(const std::string& level) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  for (const char* name : {"agent", "discovery", "procfs", "ebpf", "node", "http"}) {
    auto l = std::make_shared<spdlog::logger>(name, sink);
    spdlog::register_logger(l);
  }
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("boundwise", sink));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %n: %v");
  spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "boundwise: tells, per workload on this host, whether it is CPU-bound or I/O-bound, why, "
      "and which concurrency model serves it.\nServes /metrics (Prometheus) and /recommend "
      "(JSON). Without --config it uses an embedded default that auto-discovers the busiest "
      "process trees."};
  std::string config_file;
  std::string check_file;
  std::string listen;
  std::string window;
  int sample_rate = 0;
  std::string log_level;
  bool print_default = false;
  bool version = false;
  app.add_option("-c,--config", config_file, "YAML configuration file");
  app.add_option("--check-config", check_file,
                 "validate FILE and exit: 0 if valid, 2 with FILE:LINE:COL: error if not");
  app.add_option("--listen", listen, "HOST:PORT to serve on (overrides the file)");
  app.add_option("--window", window, "classification window, e.g. 10s (overrides the file)");
  app.add_option("--sample-rate", sample_rate,
                 "thread-state samples per second (overrides the file)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn or error");
  app.add_flag("--print-default-config", print_default, "print the embedded default config");
  app.add_flag("--version", version, "print the version");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  if (version) {
    std::cout << "boundwise " << BOUNDWISE_VERSION << "\n";
    return 0;
  }
  if (print_default) {
    std::cout << boundwise::default_config_yaml();
    return 0;
  }
  if (!check_file.empty()) {
    try {
      boundwise::load_config_file(check_file);
    } catch (const boundwise::ConfigError& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
    std::cout << check_file << ": ok\n";
    return 0;
  }

  boundwise::Config config;
  try {
    config = config_file.empty()
                 ? boundwise::parse_config(boundwise::default_config_yaml(), "<embedded default>")
                 : boundwise::load_config_file(config_file);
  } catch (const boundwise::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  if (!listen.empty()) {
    auto parsed = boundwise::parse_listen_address(listen);
    if (!parsed) {
      std::cerr << "--listen: bad address \"" << listen << "\" (HOST:PORT or [V6]:PORT)\n";
      return 2;
    }
    config.listen_host = parsed->first;
    config.listen_port = parsed->second;
  }
  if (!window.empty()) {
    auto d = boundwise::parse_duration(window);
    if (!d) {
      std::cerr << "--window: bad duration \"" << window << "\" (e.g. 10s, 500ms, 1m)\n";
      return 2;
    }
    config.window = *d;
  }
  if (app.count("--sample-rate") > 0) {
    if (sample_rate < 1 || sample_rate > 1000) {
      std::cerr << "--sample-rate: must be between 1 and 1000\n";
      return 2;
    }
    config.sample_rate_hz = sample_rate;
  }
  if (config.discovery_interval > config.window) config.discovery_interval = config.window;
  if (!log_level.empty()) {
    if (spdlog::level::from_str(log_level) == spdlog::level::off && log_level != "off") {
      std::cerr << "--log-level: must be one of trace, debug, info, warn, error\n";
      return 2;
    }
    config.log_level = log_level;
  }

  setup_logging(config.log_level);
  spdlog::get("agent")->info("boundwise {} starting (config: {})", BOUNDWISE_VERSION,
                             config_file.empty() ? "embedded default" : config_file);
  boundwise::Agent agent(std::move(config));
  if (auto started = agent.start(); !started) {
    spdlog::get("agent")->error("{}", started.error().message);
    return 1;
  }
  int code = agent.run();
  spdlog::get("agent")->info("stopped");
  return code;
}
