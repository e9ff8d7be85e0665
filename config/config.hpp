// The agent's configuration: the YAML schema as a struct, its defaults, and loading
// with `FILE:LINE:COL: what is wrong` errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "classifier/endpoint.hpp"
#include "classifier/options.hpp"
#include "classifier/verdict.hpp"
#include "collectors/descriptor.hpp"

namespace boundwise {

// Exactly one of pid / comm / cmdline is set.
struct TargetSelector {
  std::string name;
  std::optional<int> pid{};
  std::optional<std::string> comm_regex{};     // ECMAScript regex searched in /proc/PID/comm
  std::optional<std::string> cmdline_regex{};  // searched in the NUL→space joined cmdline
  Objective slo{};                             // `slo:`; empty when none (docs/CONFIG.md)
};

// The `web:` section: TLS and authentication of the HTTP endpoints.
struct WebConfig {
  std::string tls_cert_file;  // both set, or neither (plain HTTP)
  std::string tls_key_file;
  std::string bearer_token_file;
  std::string bearer_token;  // the file's content without surrounding whitespace
  // user → bcrypt hash ("$2b$12$..."), as in Prometheus' exporter-toolkit web config.
  std::map<std::string, std::string> basic_auth_users;
  // Paths that need credentials once any are configured. Default: every endpoint
  // but the ones scrapers and probes use (/metrics, /healthz, /readyz).
  std::vector<std::string> protected_endpoints = {"/", "/recommend", "/profile", "/baselines",
                                                  "/compare"};

  bool tls() const { return !tls_cert_file.empty(); }
  bool auth() const { return !bearer_token.empty() || !basic_auth_users.empty(); }
};

// Bounds and default of `record_max_bytes`.
inline constexpr std::uint64_t kMinRecordMaxBytes = 1ull << 20;       // 1 MiB
inline constexpr std::uint64_t kMaxRecordMaxBytes = 1ull << 40;       // 1 TiB
inline constexpr std::uint64_t kDefaultRecordMaxBytes = 64ull << 20;  // 64 MiB

struct Config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 9977;
  std::chrono::milliseconds window{10'000};
  int sample_rate_hz = 5;
  std::chrono::milliseconds discovery_interval{5'000};
  // With no targets, the busiest process trees are discovered automatically.
  std::vector<TargetSelector> targets;
  int max_workloads = 20;
  std::vector<DependencyRule> dependencies;
  int max_dependencies_per_workload = 10;
  // Consecutive windows a different class must hold before it is published (1: at
  // once); a verdict with confidence >= 0.9 changes at once (docs/CLASSIFIER.md).
  int verdict_change_windows = 2;
  // Prometheus series the agent exports at most; beyond it series are left out of
  // /metrics by priority (never a workload's verdict; still all in /recommend) and
  // counted in boundwise_dropped_total (docs/METRICS.md, "The series cap"). The default
  // holds max_workloads x max_dependencies_per_workload with every histogram (~24,000).
  int max_series = 25'000;
  // Files the procfs collector keeps open at most (per-thread files of the targets;
  // the least recently used are closed first and reopened when read). 0: half of the
  // agent's open-files limit, which the agent raises to its hard limit at start.
  int max_open_files = 0;
  std::string proc_root = "/proc";
  std::string log_level = "info";
  // `collectors:` section: collector or part name → enabled, as written (absent names
  // take their descriptor's default: collectors/descriptor.hpp).
  std::map<std::string, bool> collectors_enabled;
  // Each collector's options section (`ebpf:` …), collector name → key → value, as
  // written and validated against its descriptor; absent keys take their default.
  std::map<std::string, OptionValues, std::less<>> collector_options;
  WebConfig web;
  // When started as root: the user to switch to once started (keeping only the
  // capabilities boundwise uses). Empty: stay the user it was started as.
  std::string run_as_user;
  // Record and replay (docs/ARCHITECTURE.md): a directory the agent appends each
  // window's evidence to, one JSON line per window, for `boundwise replay`. Empty: off.
  std::string record;
  // What the evidence files in `record` may hold together; the oldest go first.
  std::uint64_t record_max_bytes = kDefaultRecordMaxBytes;
  Prices cost;  // `cost:`; money is shown only with a price above 0
  // Where the agent keeps state across restarts: baselines (daemon/baselines.hpp) in
  // STATE_DIR/baselines, at most max_baselines of them.
  std::string state_dir = "/var/lib/boundwise";
  int max_baselines = 100;
};

// Every path the HTTP server answers (what `protected_endpoints` may name).
inline const std::vector<std::string>& known_endpoints() {
  static const std::vector<std::string> paths = {"/",          "/metrics", "/recommend", "/profile",
                                                 "/baselines", "/compare", "/healthz",   "/readyz"};
  return paths;
}

// A config that cannot be used. what() is "FILE:LINE:COL: message" (LINE and COL are
// 1-based), ready to print.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, int column, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  int column() const { return column_; }

 private:
  std::string file_;
  int line_;
  int column_;
};

// The YAML text of the embedded default config (documented in README.md): the agent's
// settings, then each collector's switch and options with their help, from
// `collectors` (the daemon passes collectors/registry.hpp's list).
std::string default_config_yaml(const CollectorDescriptors& collectors);

// Parses YAML text; `file_name` is used in error messages. The `collectors:` names and
// the collectors' option sections are checked against `collectors`. Throws
// ConfigError.
Config parse_config(std::string_view yaml_text, const std::string& file_name,
                    const CollectorDescriptors& collectors);

// Reads and parses a file. Throws ConfigError (an unreadable file is reported as
// FILE:1:1).
Config load_config_file(const std::string& path, const CollectorDescriptors& collectors);

// Parses "10s", "500ms", "2m", "1h" (a positive integer and a unit). nullopt if bad.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Parses a size in bytes: an integer, optionally followed by KiB, MiB, GiB or TiB
// ("65536", "64MiB"). nullopt if bad or above 2^64 - 1.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

// Parses "127.0.0.1:9977", "[::1]:9977", "0.0.0.0:9977". nullopt if bad.
std::optional<std::pair<std::string, std::uint16_t>> parse_listen_address(std::string_view text);

}  // namespace boundwise
