// Loading and validating the YAML config. Every error points at the offending node
// (yaml-cpp marks are 0-based; messages are 1-based like compilers').
#include "config/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/values.hpp"

namespace boundwise {

ConfigError::ConfigError(std::string file, int line, int column, const std::string& message)
    : std::runtime_error(file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                         message),
      file_(std::move(file)),
      line_(line),
      column_(column) {}

namespace {

constexpr std::string_view kDefaultConfig =
    R"yaml(# boundwise embedded default configuration (boundwise --print-default-config).
# Listen on loopback only; put a TLS/auth proxy in front to expose it.
listen: "127.0.0.1:9977"
# Length of a classification window.
window: 10s
# Thread-state samples per second. 5 keeps the agent under 0.5% of a core at 100
# threads (docs/BENCHMARKS.md); raise it for finer procfs latency estimates.
sample_rate: 5
# How often /proc is re-scanned for new and exited processes.
discovery_interval: 5s
# No targets: the busiest process trees are discovered automatically, at most this many.
max_workloads: 20
# A workload's class changes only after the new class holds this many windows in a
# row (or is judged with confidence >= 0.9); 1 = every window stands alone.
verdict_change_windows: 2
# Dependencies per workload before the rest are summed into "other".
max_dependencies: 10
# procfs files kept open at most (one per idle target thread, three per busy one; each
# holds ~6 KiB of kernel memory). 0 = ~10 900 (64 MiB). Lowered to half the open-files
# limit (raised to its hard limit at start) and to a quarter of the agent's cgroup
# memory limit.
max_open_files: 0
log_level: info
targets: []
dependencies: []
# Append each window's evidence to files in this directory, for `boundwise replay`
# (off when unset); the files together stay under record_max_bytes, oldest deleted.
# record: /var/lib/boundwise/record
# record_max_bytes: 64MiB
# Where baselines (POST /baselines, GET /compare) are kept across restarts; the
# directory is created by the first baseline stored.
state_dir: /var/lib/boundwise
max_baselines: 100
# Prices for the options in /recommend: each option's money per month (730 hours).
# cost: {cpu_core_hour: 0.04, memory_gib_hour: 0.005, currency: USD}
)yaml";

const std::set<std::string> kTopKeys = {"listen",
                                        "window",
                                        "sample_rate",
                                        "discovery_interval",
                                        "max_workloads",
                                        "max_dependencies",
                                        "proc_root",
                                        "log_level",
                                        "targets",
                                        "dependencies",
                                        "collectors",
                                        "web",
                                        "run_as_user",
                                        "max_series",
                                        "max_open_files",
                                        "record",
                                        "record_max_bytes",
                                        "cost",
                                        "verdict_change_windows",
                                        "state_dir",
                                        "max_baselines"};

// A bound as a person writes it: 0, 1e+06.
std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

class Loader {
 public:
  Loader(std::string file, const CollectorDescriptors& collectors)
      : file_(std::move(file)), collectors_(collectors) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    YAML::Mark m = node.Mark();
    int line = m.line >= 0 ? m.line + 1 : 1;
    int column = m.column >= 0 ? m.column + 1 : 1;
    throw ConfigError(file_, line, column, message);
  }

  std::string scalar(const YAML::Node& node, const std::string& key) const {
    if (!node.IsScalar()) fail(node, "\"" + key + "\" must be a scalar value");
    return node.Scalar();
  }

  long long integer(const YAML::Node& node, const std::string& key, long long min,
                    long long max) const {
    std::string text = scalar(node, key);
    long long value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
      fail(node, "\"" + key + "\" must be an integer, got \"" + text + "\"");
    }
    if (value < min || value > max) {
      fail(node, "\"" + key + "\" must be between " + std::to_string(min) + " and " +
                     std::to_string(max) + ", got " + text);
    }
    return value;
  }

  std::chrono::milliseconds duration(const YAML::Node& node, const std::string& key) const {
    std::string text = scalar(node, key);
    auto d = parse_duration(text);
    if (!d) {
      fail(node, "\"" + key + "\": bad duration \"" + text +
                     "\" (a positive integer with a unit: ms, s, m or h, e.g. 10s)");
    }
    return *d;
  }

  void check_keys(const YAML::Node& map, const std::set<std::string>& allowed,
                  const std::string& where) const {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      // yaml-cpp keeps the first of two equal keys; the user meant the last, or both.
      if (!seen.insert(key).second) fail(it->first, "duplicate key \"" + key + "\" in " + where);
      if (allowed.count(key) == 0) {
        std::string list;
        for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
        fail(it->first, "unknown key \"" + key + "\" in " + where + " (allowed: " + list + ")");
      }
    }
  }

  TargetSelector target(const YAML::Node& node, std::set<std::string>& names) const {
    if (!node.IsMap()) fail(node, "each target must be a map with name and pid, comm or cmdline");
    check_keys(node, {"name", "pid", "comm", "cmdline", "slo"}, "a target");
    TargetSelector t;
    if (!node["name"]) fail(node, "target has no \"name\"");
    t.name = scalar(node["name"], "name");
    static const std::regex kSafeName("^[A-Za-z0-9_.:-]{1,64}$");
    if (!std::regex_match(t.name, kSafeName)) {
      fail(node["name"], "target name \"" + t.name +
                             "\" must be 1-64 characters of letters, digits, '_', '.', ':' or '-'");
    }
    if (!names.insert(t.name).second)
      fail(node["name"], "duplicate target name \"" + t.name + "\"");
    int selectors = 0;
    if (node["pid"]) {
      t.pid = static_cast<int>(integer(node["pid"], "pid", 1, 4194304));
      ++selectors;
    }
    for (const char* key : {"comm", "cmdline"}) {
      if (!node[key]) continue;
      std::string pattern = scalar(node[key], key);
      try {
        std::regex compiled(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        fail(node[key], std::string("\"") + key + "\": bad regex \"" + pattern + "\": " + e.what());
      }
      (std::string_view(key) == "comm" ? t.comm_regex : t.cmdline_regex) = pattern;
      ++selectors;
    }
    if (auto n = node["slo"]) t.slo = slo(n);
    if (selectors == 0) fail(node, "target \"" + t.name + "\" needs one of pid, comm or cmdline");
    if (selectors > 1) {
      fail(node, "target \"" + t.name + "\" has more than one of pid, comm and cmdline");
    }
    return t;
  }

  DependencyRule dependency(const YAML::Node& node, std::set<std::string>& names) const {
    if (!node.IsMap()) fail(node, "each dependency must be a map with name and endpoint");
    check_keys(node, {"name", "endpoint"}, "a dependency");
    if (!node["name"]) fail(node, "dependency has no \"name\"");
    if (!node["endpoint"]) fail(node, "dependency has no \"endpoint\"");
    std::string name = scalar(node["name"], "name");
    if (name.empty() || name.size() > 64)
      fail(node["name"], "dependency name must be 1-64 characters");
    if (!names.insert(name).second)
      fail(node["name"], "duplicate dependency name \"" + name + "\"");
    auto rule = DependencyRule::parse(name, scalar(node["endpoint"], "endpoint"));
    if (!rule) fail(node["endpoint"], rule.error().message);
    return *rule;
  }

  // A file the agent must be able to read at start-up; its content.
  std::string readable_file(const YAML::Node& node, const std::string& key) const {
    std::string path = scalar(node, key);
    if (path.empty()) fail(node, "\"" + key + "\" must be a file path");
    std::string why;
    auto text = read_regular_file(path, why);
    if (!text) fail(node, "\"" + key + "\": cannot read " + path + ": " + why);
    return *text;
  }

  double number(const YAML::Node& node, const std::string& key, double min, double max) const {
    std::string text = scalar(node, key);
    char* end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value < min ||
        value > max) {
      fail(node, "\"" + key + "\" must be a number from " + number_text(min) + " to " +
                     number_text(max) + ", got \"" + text + "\"");
    }
    return value;
  }

  // A target's `slo:`: latency_p95, latency_p99 (durations) and throughput_min
  // (requests per second, optionally written "50/s"); at least one.
  Objective slo(const YAML::Node& node) const {
    if (!node.IsMap() || node.size() == 0) {
      fail(node, "\"slo\" must be a map of latency_p95, latency_p99 and/or throughput_min");
    }
    check_keys(node, {"latency_p95", "latency_p99", "throughput_min"}, "\"slo\"");
    Objective o;
    auto seconds = [this](const YAML::Node& n, const std::string& key) {
      return std::chrono::duration<double>(duration(n, key)).count();
    };
    if (auto n = node["latency_p95"]) o.latency_p95_seconds = seconds(n, "latency_p95");
    if (auto n = node["latency_p99"]) o.latency_p99_seconds = seconds(n, "latency_p99");
    if (auto n = node["throughput_min"]) {
      std::string text = scalar(n, "throughput_min");
      if (text.size() > 2 && text.compare(text.size() - 2, 2, "/s") == 0) {
        text.resize(text.size() - 2);
      }
      char* end = nullptr;
      const double rate = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(rate) || rate <= 0 ||
          rate > 1e9) {
        fail(n, "\"throughput_min\" must be requests per second above 0, e.g. 50/s, got \"" +
                    n.Scalar() + "\"");
      }
      o.throughput_min_per_second = rate;
    }
    return o;
  }

  Prices cost(const YAML::Node& node) const {
    if (!node.IsMap()) {
      fail(node, "\"cost\" must be a map of cpu_core_hour, memory_gib_hour and currency");
    }
    check_keys(node, {"cpu_core_hour", "memory_gib_hour", "currency"}, "\"cost\"");
    Prices c;
    if (auto n = node["cpu_core_hour"]) c.cpu_core_hour = number(n, "cpu_core_hour", 0, 1e6);
    if (auto n = node["memory_gib_hour"]) c.memory_gib_hour = number(n, "memory_gib_hour", 0, 1e6);
    if (auto n = node["currency"]) {
      c.currency = scalar(n, "currency");
      static const std::regex kCurrency("^[A-Za-z]{1,8}$");
      if (!std::regex_match(c.currency, kCurrency)) {
        fail(n, "\"currency\" must be a code of 1-8 letters, e.g. USD, got \"" + c.currency + "\"");
      }
    }
    return c;
  }

  WebConfig web(const YAML::Node& node) const {
    if (!node.IsMap()) fail(node, "\"web\" must be a map");
    check_keys(node, {"tls", "bearer_token_file", "basic_auth_users", "protected_endpoints"},
               "\"web\"");
    WebConfig w;
    if (auto tls = node["tls"]) {
      if (!tls.IsMap()) fail(tls, "\"tls\" must be a map with cert_file and key_file");
      check_keys(tls, {"cert_file", "key_file"}, "\"tls\"");
      if (!tls["cert_file"] || !tls["key_file"]) {
        fail(tls, "\"tls\" needs both cert_file and key_file");
      }
      readable_file(tls["cert_file"], "cert_file");
      readable_file(tls["key_file"], "key_file");
      w.tls_cert_file = tls["cert_file"].Scalar();
      w.tls_key_file = tls["key_file"].Scalar();
    }
    if (auto n = node["bearer_token_file"]) {
      std::string token = readable_file(n, "bearer_token_file");
      auto first = token.find_first_not_of(" \t\r\n");
      auto last = token.find_last_not_of(" \t\r\n");
      token = first == std::string::npos ? "" : token.substr(first, last - first + 1);
      if (token.empty()) fail(n, "\"bearer_token_file\": " + n.Scalar() + " is empty");
      if (token.find_first_of(" \t\r\n") != std::string::npos) {
        fail(n, "\"bearer_token_file\": the token must be one word without whitespace");
      }
      w.bearer_token_file = n.Scalar();
      w.bearer_token = token;
    }
    if (auto users = node["basic_auth_users"]) {
      if (!users.IsMap()) fail(users, "\"basic_auth_users\" must be a map of user: bcrypt hash");
      static const std::regex kBcrypt(R"(^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$)");
      for (auto it = users.begin(); it != users.end(); ++it) {
        std::string user = scalar(it->first, "user name");
        YAML::Node hash_node = it->second;
        std::string hash = scalar(hash_node, "password hash");
        if (user.empty() || user.find(':') != std::string::npos) {
          fail(it->first, "basic auth user names must be non-empty and contain no ':'");
        }
        if (!std::regex_match(hash, kBcrypt)) {
          fail(hash_node, "the password of \"" + user +
                              "\" must be a bcrypt hash ($2b$12$ and 53 more characters; "
                              "make one with: htpasswd -nBC 12 \"\" | tr -d ':')");
        }
        w.basic_auth_users[user] = hash;
      }
    }
    if (auto list = node["protected_endpoints"]) {
      if (!list.IsSequence()) fail(list, "\"protected_endpoints\" must be a list of paths");
      w.protected_endpoints.clear();
      const auto& known = known_endpoints();
      for (const auto& p : list) {
        std::string path = scalar(p, "endpoint");
        if (std::find(known.begin(), known.end(), path) == known.end()) {
          fail(p, "unknown endpoint \"" + path +
                      "\" (known: /, /metrics, /recommend, /healthz, "
                      "/readyz)");
        }
        w.protected_endpoints.push_back(path);
      }
    }
    if (!w.protected_endpoints.empty() && node["protected_endpoints"] && !w.auth()) {
      fail(node["protected_endpoints"],
           "\"protected_endpoints\" needs bearer_token_file or basic_auth_users");
    }
    return w;
  }

  // `record` and `record_max_bytes`. The directory is created and checked at start,
  // not here: --check-config must not create anything.
  void record(const YAML::Node& root, Config& c) const {
    if (auto n = root["record"]) {
      if (!n.IsNull()) c.record = scalar(n, "record");
      if (c.record.find('\0') != std::string::npos) fail(n, "\"record\" must be a directory path");
    }
    if (auto n = root["record_max_bytes"]) {
      std::string text = scalar(n, "record_max_bytes");
      auto bytes = parse_byte_size(text);
      if (!bytes || *bytes < kMinRecordMaxBytes || *bytes > kMaxRecordMaxBytes) {
        fail(n,
             "\"record_max_bytes\" must be a size from 1MiB to 1TiB (bytes, or with KiB, "
             "MiB, GiB or TiB), got \"" +
                 text + "\"");
      }
      c.record_max_bytes = *bytes;
    }
  }

  Config load(const YAML::Node& root) const {
    Config c;
    if (!root || root.IsNull()) return c;
    if (!root.IsMap()) fail(root, "the top level must be a map of settings");
    std::set<std::string> top_keys = kTopKeys;
    for (const auto* d : collectors_) {
      if (!d->options.empty()) top_keys.insert(d->name);
    }
    check_keys(root, top_keys, "the top level");
    settings(root, c);
    lists(root, c);
    if (auto n = root["collectors"]) switches(n, c);
    for (const auto* d : collectors_) {
      if (auto n = root[d->name]; n && !d->options.empty()) {
        c.collector_options[d->name] = options(n, *d);
      }
    }
    if (auto n = root["web"]) c.web = web(n);
    if (auto n = root["cost"]) c.cost = cost(n);
    record(root, c);
    if (c.discovery_interval > c.window) {
      // The default interval follows a short window; an explicit one is a mistake.
      if (!root["discovery_interval"]) {
        c.discovery_interval = c.window;
      } else {
        fail(root["discovery_interval"],
             "\"discovery_interval\" must not be longer than \"window\"");
      }
    }
    return c;
  }

 private:
  // The agent-wide scalar settings.
  void settings(const YAML::Node& root, Config& c) const {
    if (auto n = root["listen"]) {
      std::string text = scalar(n, "listen");
      auto parsed = parse_listen_address(text);
      if (!parsed) fail(n, "\"listen\": bad address \"" + text + "\" (HOST:PORT or [V6]:PORT)");
      c.listen_host = parsed->first;
      c.listen_port = parsed->second;
    }
    if (auto n = root["window"]) c.window = duration(n, "window");
    if (auto n = root["discovery_interval"])
      c.discovery_interval = duration(n, "discovery_interval");
    if (auto n = root["sample_rate"])
      c.sample_rate_hz = static_cast<int>(integer(n, "sample_rate", 1, 1000));
    if (auto n = root["max_workloads"])
      c.max_workloads = static_cast<int>(integer(n, "max_workloads", 1, 10000));
    if (auto n = root["max_dependencies"]) {
      c.max_dependencies_per_workload = static_cast<int>(integer(n, "max_dependencies", 1, 1000));
    }
    if (auto n = root["state_dir"]) {
      c.state_dir = scalar(n, "state_dir");
      if (c.state_dir.empty() || c.state_dir.find('\0') != std::string::npos) {
        fail(n, "\"state_dir\" must be a directory path");
      }
    }
    if (auto n = root["max_baselines"]) {
      c.max_baselines = static_cast<int>(integer(n, "max_baselines", 1, 10'000));
    }
    if (auto n = root["verdict_change_windows"]) {
      c.verdict_change_windows = static_cast<int>(integer(n, "verdict_change_windows", 1, 100));
    }
    if (auto n = root["max_series"])
      c.max_series = static_cast<int>(integer(n, "max_series", 100, 1'000'000));
    if (auto n = root["max_open_files"]) {
      c.max_open_files = static_cast<int>(integer(n, "max_open_files", 0, 10'000'000));
      if (c.max_open_files > 0 && c.max_open_files < 16) {
        fail(n, "\"max_open_files\" must be 0 (automatic) or at least 16");
      }
    }
    if (auto n = root["proc_root"]) c.proc_root = scalar(n, "proc_root");
    if (auto n = root["log_level"]) {
      c.log_level = scalar(n, "log_level");
      static const std::set<std::string> levels = {"trace", "debug", "info", "warn", "error"};
      if (levels.count(c.log_level) == 0) {
        fail(n, "\"log_level\" must be one of trace, debug, info, warn, error");
      }
    }
    if (auto n = root["run_as_user"]) {
      c.run_as_user = scalar(n, "run_as_user");
      static const std::regex kUser("^[a-z_][a-z0-9_-]{0,31}$");
      if (!std::regex_match(c.run_as_user, kUser)) {
        fail(n, "\"run_as_user\" must be a user name (lower-case letters, digits, '_', '-')");
      }
    }
  }

  // `targets` and `dependencies`.
  void lists(const YAML::Node& root, Config& c) const {
    if (auto n = root["targets"]; n && !n.IsNull()) {
      if (!n.IsSequence()) fail(n, "\"targets\" must be a list");
      std::set<std::string> names;
      for (const auto& t : n) c.targets.push_back(target(t, names));
    }
    if (auto n = root["dependencies"]; n && !n.IsNull()) {
      if (!n.IsSequence()) fail(n, "\"dependencies\" must be a list");
      std::set<std::string> names;
      for (const auto& d : n) c.dependencies.push_back(dependency(d, names));
    }
  }

  // `collectors:`: NAME: {enabled: bool} for every collector and part the descriptors
  // declare.
  void switches(const YAML::Node& n, Config& c) const {
    if (!n.IsMap()) fail(n, "\"collectors\" must be a map of collector name to {enabled: bool}");
    const auto known = collector_and_part_names(collectors_);
    for (auto it = n.begin(); it != n.end(); ++it) {
      std::string name = scalar(it->first, "collector name");
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        fail(it->first, "unknown collector \"" + name + "\" (known: " + list + ")");
      }
      YAML::Node body = it->second;  // a copy: `it->second` lives in a temporary
      if (!body.IsMap()) fail(body, "collector \"" + name + "\" must be a map");
      check_keys(body, {"enabled"}, "collector \"" + name + "\"");
      bool enabled = true;
      if (auto e = body["enabled"]) {
        std::string text = scalar(e, "enabled");
        if (text != "true" && text != "false") fail(e, "\"enabled\" must be true or false");
        enabled = text == "true";
      }
      c.collectors_enabled[name] = enabled;
    }
  }

  // A collector's options section, each value checked by its descriptor's spec.
  OptionValues options(const YAML::Node& n, const CollectorDescriptor& d) const {
    const std::string where = "\"" + d.name + "\"";
    if (!n.IsMap()) fail(n, where + " must be a map");
    std::set<std::string> keys;
    for (const auto& spec : d.options) keys.insert(spec.key);
    check_keys(n, keys, where);
    OptionValues values;
    for (const auto& spec : d.options) {
      if (auto v = n[spec.key]) {
        auto parsed = parse_option(spec, scalar(v, spec.key));
        if (!parsed) fail(v, parsed.error().message);
        values.emplace(spec.key, std::move(*parsed));
      }
    }
    return values;
  }

  std::string file_;
  const CollectorDescriptors& collectors_;
};

}  // namespace

namespace {

// `text` as YAML comment lines of at most ~88 columns, each starting with `indent# `.
std::string comment(std::string_view text, const std::string& indent) {
  std::string out;
  std::string line;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t space = text.find(' ', pos);
    std::string_view word = text.substr(pos, space == std::string_view::npos ? space : space - pos);
    if (!line.empty() && indent.size() + 2 + line.size() + 1 + word.size() > 88) {
      out += indent + "# " + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + std::string(word);
    if (space == std::string_view::npos) break;
    pos = space + 1;
  }
  if (!line.empty()) out += indent + "# " + line + "\n";
  return out;
}

}  // namespace

std::string default_config_yaml(const CollectorDescriptors& collectors) {
  std::string out(kDefaultConfig);
  out += "# Collectors and their parts; turn one off (or one marked off on) with\n";
  out += "# collectors: {NAME: {enabled: false}}.\n";
  std::size_t width = 0;
  for (const auto& name : collector_and_part_names(collectors))
    width = std::max(width, name.size());
  auto row = [&](const std::string& name, bool on, const std::string& help) {
    out += "#   " + name + std::string(width + 2 - name.size(), ' ') + (on ? "" : "(off) ") + help +
           "\n";
  };
  for (const auto* d : collectors) row(d->name, d->enabled_by_default, d->help);
  for (const auto* d : collectors) {
    for (const auto& p : d->parts) row(p.name, p.enabled_by_default, p.help);
  }
  out += "collectors: {}\n";
  for (const auto* d : collectors) {
    if (d->options.empty()) continue;
    out += d->name + ":\n";
    for (const auto& spec : d->options) {
      out += comment(spec.help, "  ");
      out += "  " + spec.key + ": " + spec.default_value + "\n";
    }
  }
  return out;
}

Config parse_config(std::string_view yaml_text, const std::string& file_name,
                    const CollectorDescriptors& collectors) {
  Loader loader(file_name, collectors);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(file_name, e.mark.line >= 0 ? e.mark.line + 1 : 1,
                      e.mark.column >= 0 ? e.mark.column + 1 : 1, "YAML syntax: " + e.msg);
  }
  try {
    return loader.load(root);
  } catch (const ConfigError&) {
    throw;
  } catch (const YAML::Exception& e) {
    throw ConfigError(file_name, e.mark.line >= 0 ? e.mark.line + 1 : 1,
                      e.mark.column >= 0 ? e.mark.column + 1 : 1, e.msg);
  }
}

Config load_config_file(const std::string& path, const CollectorDescriptors& collectors) {
  std::string why;
  auto text = read_regular_file(path, why);
  if (!text) throw ConfigError(path, 1, 1, "cannot read the file: " + why);
  return parse_config(*text, path, collectors);
}

}  // namespace boundwise
