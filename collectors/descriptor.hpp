// What a collector declares about itself, in one place: its name, its parts, whether
// it runs by default, its options (key, type, default, bounds, help) and its factory.
// Config validation, `--help`, `--print-default-config`, the logger names and the
// known-collector list are all derived from these descriptors (collectors/registry.hpp
// lists them), so adding a collector with an option touches its own folder and one
// registration line (docs/ARCHITECTURE.md, "Adding a collector").
//
// std only: the config loader reads descriptors without linking any collector.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "classifier/result.hpp"

namespace boundwise {

class Collector;           // collectors/collector.hpp
struct CollectorSettings;  // collectors/collector.hpp

// One option, written in the config as `COLLECTOR: {KEY: value}`.
struct OptionSpec {
  enum class Type {
    kNumber,   // a decimal number within [min, max] (min excluded when min_exclusive)
    kInteger,  // an integer within [min, max]
    kChoice,   // one of `choices`
  };
  std::string key{};
  Type type = Type::kNumber;
  std::string default_value{};  // as written in YAML; must itself be valid
  double min = 0;
  double max = 0;
  bool min_exclusive = false;
  std::string what{};                  // kNumber: "a number of CPU cores" in error messages
  std::vector<std::string> choices{};  // kChoice
  std::string help{};                  // one or two sentences: --help and the default config
};

// A separately switchable part of a collector (`collectors: {PART: {enabled: …}}`),
// exported as boundwise_collector_up{collector="PART"}.
struct PartSpec {
  std::string name{};
  bool enabled_by_default = true;
  std::string help{};
};

using CollectorFactory = std::unique_ptr<Collector> (*)(const CollectorSettings&);

struct CollectorDescriptor {
  std::string name{};  // config key, metric label and logger name
  std::string help{};  // what it measures, one line
  bool enabled_by_default = true;
  std::vector<PartSpec> parts{};
  std::vector<OptionSpec> options{};
  CollectorFactory factory = nullptr;
};

using CollectorDescriptors = std::vector<const CollectorDescriptor*>;

// A validated option value: kNumber → double, kInteger → long long, kChoice → string.
using OptionValue = std::variant<double, long long, std::string>;
// One collector's configured options, key → value (absent keys take their default).
using OptionValues = std::map<std::string, OptionValue, std::less<>>;

// Parses `text` as a value of `spec`. Error: a message naming the key and the bounds
// or choices ("\"net_source\" must be auto, tracepoints or syscalls, got \"x\"").
Result<OptionValue> parse_option(const OptionSpec& spec, std::string_view text);

// One collector's options as it reads them: the configured values, else the
// descriptor's defaults. Asking for a key the descriptor does not declare is a
// programming error (std::logic_error).
class Options {
 public:
  Options(const CollectorDescriptor& descriptor, const OptionValues* configured);
  double number(std::string_view key) const;
  long long integer(std::string_view key) const;
  std::string text(std::string_view key) const;

 private:
  OptionValue value(std::string_view key) const;
  const CollectorDescriptor& descriptor_;
  const OptionValues* configured_;
};

// Every name `collectors:` accepts, collectors first then parts, in registration order.
std::vector<std::string> collector_and_part_names(const CollectorDescriptors& descriptors);

// Whether `name` (a collector or a part) runs by default; false for an unknown name.
bool enabled_by_default(const CollectorDescriptors& descriptors, std::string_view name);

}  // namespace boundwise
