#include "collectors/descriptor.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace boundwise {

namespace {

// "0.01", "64", "100000": the shortest text that reads back as the bound.
std::string bound_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

Result<OptionValue> parse_number(const OptionSpec& spec, std::string_view text) {
  const std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  const bool numeric = !s.empty() && end == s.c_str() + s.size();
  const bool low_ok = spec.min_exclusive ? v > spec.min : v >= spec.min;
  if (!numeric || !low_ok || !(v <= spec.max)) {
    return Error{"\"" + spec.key + "\" must be " + (spec.what.empty() ? "a number" : spec.what) +
                 (spec.min_exclusive ? " above " : " from ") + bound_text(spec.min) +
                 (spec.min_exclusive ? " and at most " : " to ") + bound_text(spec.max) +
                 ", got \"" + s + "\""};
  }
  return OptionValue{v};
}

Result<OptionValue> parse_integer(const OptionSpec& spec, std::string_view text) {
  long long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return Error{"\"" + spec.key + "\" must be an integer, got \"" + std::string(text) + "\""};
  }
  if (static_cast<double>(v) < spec.min || static_cast<double>(v) > spec.max) {
    return Error{"\"" + spec.key + "\" must be between " + bound_text(spec.min) + " and " +
                 bound_text(spec.max) + ", got " + std::string(text)};
  }
  return OptionValue{v};
}

Result<OptionValue> parse_choice(const OptionSpec& spec, std::string_view text) {
  for (const auto& c : spec.choices) {
    if (c == text) return OptionValue{c};
  }
  std::string list;
  for (std::size_t i = 0; i < spec.choices.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == spec.choices.size() ? " or " : ", ") + spec.choices[i];
  }
  return Error{"\"" + spec.key + "\" must be " + list + ", got \"" + std::string(text) + "\""};
}

}  // namespace

Result<OptionValue> parse_option(const OptionSpec& spec, std::string_view text) {
  switch (spec.type) {
    case OptionSpec::Type::kNumber:
      return parse_number(spec, text);
    case OptionSpec::Type::kInteger:
      return parse_integer(spec, text);
    case OptionSpec::Type::kChoice:
      return parse_choice(spec, text);
  }
  return Error{"\"" + spec.key + "\": unknown option type"};
}

Options::Options(const CollectorDescriptor& descriptor, const OptionValues* configured)
    : descriptor_(descriptor), configured_(configured) {}

OptionValue Options::value(std::string_view key) const {
  for (const auto& spec : descriptor_.options) {
    if (spec.key != key) continue;
    if (configured_ != nullptr) {
      if (auto it = configured_->find(key); it != configured_->end()) return it->second;
    }
    auto parsed = parse_option(spec, spec.default_value);
    if (!parsed)
      throw std::logic_error("bad default of " + spec.key + ": " + parsed.error().message);
    return *parsed;
  }
  throw std::logic_error(descriptor_.name + " declares no option \"" + std::string(key) + "\"");
}

double Options::number(std::string_view key) const { return std::get<double>(value(key)); }
long long Options::integer(std::string_view key) const { return std::get<long long>(value(key)); }
std::string Options::text(std::string_view key) const { return std::get<std::string>(value(key)); }

std::vector<std::string> collector_and_part_names(const CollectorDescriptors& descriptors) {
  std::vector<std::string> names;
  for (const auto* d : descriptors) names.push_back(d->name);
  for (const auto* d : descriptors) {
    for (const auto& p : d->parts) names.push_back(p.name);
  }
  return names;
}

bool enabled_by_default(const CollectorDescriptors& descriptors, std::string_view name) {
  for (const auto* d : descriptors) {
    if (d->name == name) return d->enabled_by_default;
    for (const auto& p : d->parts) {
      if (p.name == name) return p.enabled_by_default;
    }
  }
  return false;
}

}  // namespace boundwise
