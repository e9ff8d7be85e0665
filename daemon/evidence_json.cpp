// Evidence ⇄ JSON. The field lists (evidence_fields.hpp) say which fields; this file
// says how each kind of value is written and read.
#include "daemon/evidence_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "daemon/evidence_fields.hpp"

namespace boundwise {

namespace {

using evidence_fields::fields;
using evidence_fields::HasFields;
using nlohmann::json;
using ojson = nlohmann::ordered_json;

// ---- Writing: objects keep the order of the field lists, for a person reading a line ----

ojson to_json(double v);
ojson to_json(int v);
ojson to_json(std::uint64_t v);
ojson to_json(bool v);
ojson to_json(const std::string& v);
ojson to_json(const PerReason<double>& v);
ojson to_json(const LatencyHistogram& h);
template <class T>
ojson to_json(const std::vector<T>& v);
template <class T>
ojson to_json(const std::map<std::string, T>& m);
template <class T>
ojson to_json(const std::map<Endpoint, T>& m);
template <HasFields T>
ojson to_json(const T& s);
ojson to_json(const AssembleRules& rules);

struct Writer {
  ojson out = ojson::object();
  template <class T>
  void operator()(const char* key, const T& v) {
    out[key] = to_json(v);
  }
  template <class T>
  void operator()(const char* key, const std::optional<T>& v) {
    if (v) out[key] = to_json(*v);  // absent, not null
  }
};

ojson to_json(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}
ojson to_json(int v) { return v; }
ojson to_json(std::uint64_t v) { return v; }
ojson to_json(bool v) { return v; }
ojson to_json(const std::string& v) { return v; }

ojson to_json(const PerReason<double>& v) {
  ojson out = ojson::object();
  for (Reason r : kAllReasons) out[std::string(to_string(r))] = to_json(v[index_of(r)]);
  return out;
}

ojson to_json(const LatencyHistogram& h) {
  std::size_t used = h.slots.size();
  while (used > 0 && h.slots[used - 1] == 0) --used;
  ojson slots = ojson::array();
  for (std::size_t i = 0; i < used; ++i) slots.push_back(h.slots[i]);
  return ojson{{"slots", std::move(slots)}, {"sum_seconds", to_json(h.sum_seconds)}};
}

template <class T>
ojson to_json(const std::vector<T>& v) {
  ojson out = ojson::array();
  for (const auto& x : v) out.push_back(to_json(x));
  return out;
}

template <class T>
ojson to_json(const std::map<std::string, T>& m) {
  ojson out = ojson::object();
  for (const auto& [key, value] : m) out[key] = to_json(value);
  return out;
}

// "10.0.0.5:5432", "[2001:db8::7]:443"; an IPv4-mapped IPv6 address keeps its family
// ("[::ffff:10.0.0.5]:80"), which Endpoint::to_string() folds into IPv4.
std::string endpoint_key(const Endpoint& e) {
  IpAddress plain = e.address.unmapped();
  if (e.address.family == IpAddress::Family::v6 && plain.family == IpAddress::Family::v4) {
    return "[::ffff:" + plain.to_string() + "]:" + std::to_string(e.port);
  }
  return e.to_string();
}

template <class T>
ojson to_json(const std::map<Endpoint, T>& m) {
  ojson out = ojson::object();
  for (const auto& [endpoint, value] : m) out[endpoint_key(endpoint)] = to_json(value);
  return out;
}

template <HasFields T>
ojson to_json(const T& s) {
  Writer w;
  fields(w, s);
  return std::move(w.out);
}

// Dependency rules as their config text: DependencyRule::parse reads them back.
ojson to_json(const AssembleRules& rules) {
  ojson deps = ojson::array();
  for (const auto& d : rules.dependencies) {
    deps.push_back({{"name", d.name}, {"endpoint", d.endpoint_text()}});
  }
  return ojson{{"dependencies", std::move(deps)},
               {"max_dependencies", rules.max_dependencies_per_workload}};
}

// ---- Reading: a malformed value throws BadValue, caught at the top ----

struct BadValue {
  std::string message;
};

// What was there instead: a scalar as written (cut at 40 characters), an array or
// object by its size only (dumping it would recurse as deep as the garbage nests).
std::string describe(const json& got) {
  if (got.is_array()) return "an array of " + std::to_string(got.size());
  if (got.is_object()) return "an object of " + std::to_string(got.size()) + " fields";
  std::string text = got.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return std::string(got.type_name()) + " " + text;
}

[[noreturn]] void bad(const std::string& path, const std::string& what, const json& got) {
  throw BadValue{path + ": expected " + what + ", got " + describe(got)};
}

std::string member_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "[" + json(key).dump() + "]";
}

void from_json(const json& j, double& v, const std::string& path);
void from_json(const json& j, int& v, const std::string& path);
void from_json(const json& j, std::uint64_t& v, const std::string& path);
void from_json(const json& j, bool& v, const std::string& path);
void from_json(const json& j, std::string& v, const std::string& path);
void from_json(const json& j, PerReason<double>& v, const std::string& path);
void from_json(const json& j, LatencyHistogram& h, const std::string& path);
template <class T>
void from_json(const json& j, std::vector<T>& v, const std::string& path);
template <class T>
void from_json(const json& j, std::map<std::string, T>& m, const std::string& path);
template <class T>
void from_json(const json& j, std::map<Endpoint, T>& m, const std::string& path);
template <HasFields T>
void from_json(const json& j, T& s, const std::string& path);
void from_json(const json& j, AssembleRules& rules, const std::string& path);

// Reads the fields of one object; finish() refuses keys no field claimed.
class Reader {
 public:
  Reader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  template <class T>
  void operator()(const char* key, T& v) {
    if (const json* j = claim(key)) from_json(*j, v, child(key));
  }
  template <class T>
  void operator()(const char* key, std::optional<T>& v) {
    const json* j = claim(key);
    if (j == nullptr || j->is_null()) return;  // the part was not written
    from_json(*j, v.emplace(), child(key));
  }

  void finish() const {
    for (const auto& [key, value] : object_.items()) {
      if (claimed_.count(key) == 0) {
        throw BadValue{(path_.empty() ? "" : path_ + ": ") + "unknown field " + json(key).dump() +
                       " (written by a newer boundwise?)"};
      }
    }
  }

 private:
  std::string child(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

  const json* claim(const char* key) {
    claimed_.insert(key);
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  const json& object_;
  std::string path_;
  std::set<std::string> claimed_;
};

void from_json(const json& j, double& v, const std::string& path) {
  if (j.is_number()) {
    v = j.get<double>();
  } else if (j == "nan") {
    v = std::numeric_limits<double>::quiet_NaN();
  } else if (j == "inf" || j == "-inf") {
    v = (j == "inf" ? 1 : -1) * std::numeric_limits<double>::infinity();
  } else {
    bad(path, "a number (or \"nan\", \"inf\", \"-inf\")", j);
  }
}

void from_json(const json& j, int& v, const std::string& path) {
  constexpr auto lo = std::numeric_limits<int>::min();
  constexpr auto hi = std::numeric_limits<int>::max();
  if (j.is_number_unsigned() && j.get<std::uint64_t>() <= static_cast<std::uint64_t>(hi)) {
    v = static_cast<int>(j.get<std::uint64_t>());
  } else if (j.is_number_integer() && !j.is_number_unsigned() && j.get<std::int64_t>() >= lo &&
             j.get<std::int64_t>() <= hi) {
    v = static_cast<int>(j.get<std::int64_t>());
  } else {
    bad(path, "a 32-bit integer", j);
  }
}

void from_json(const json& j, std::uint64_t& v, const std::string& path) {
  if (!j.is_number_unsigned()) bad(path, "a non-negative integer", j);
  v = j.get<std::uint64_t>();
}

void from_json(const json& j, bool& v, const std::string& path) {
  if (!j.is_boolean()) bad(path, "true or false", j);
  v = j.get<bool>();
}

void from_json(const json& j, std::string& v, const std::string& path) {
  if (!j.is_string()) bad(path, "a string", j);
  v = j.get<std::string>();
}

void from_json(const json& j, PerReason<double>& v, const std::string& path) {
  if (!j.is_object()) bad(path, "an object of seconds by reason", j);
  v = {};
  for (const auto& [key, value] : j.items()) {
    auto reason = reason_from_string(key);
    if (!reason) throw BadValue{path + ": unknown reason " + json(key).dump()};
    from_json(value, v[index_of(*reason)], member_path(path, key));
  }
}

void from_json(const json& j, LatencyHistogram& h, const std::string& path) {
  if (!j.is_object()) bad(path, "a histogram {\"slots\": [...], \"sum_seconds\": ...}", j);
  h = LatencyHistogram{};
  Reader r(j, path);
  std::vector<std::uint64_t> slots;
  r("slots", slots);
  r("sum_seconds", h.sum_seconds);
  r.finish();
  if (slots.size() > kLatencySlots) {
    throw BadValue{path + ".slots: " + std::to_string(slots.size()) + " slots, at most " +
                   std::to_string(kLatencySlots)};
  }
  std::copy(slots.begin(), slots.end(), h.slots.begin());
}

template <class T>
void from_json(const json& j, std::vector<T>& v, const std::string& path) {
  if (!j.is_array()) bad(path, "an array", j);
  v.assign(j.size(), T{});
  for (std::size_t i = 0; i < j.size(); ++i) {
    from_json(j[i], v[i], path + "[" + std::to_string(i) + "]");
  }
}

template <class T>
void from_json(const json& j, std::map<std::string, T>& m, const std::string& path) {
  if (!j.is_object()) bad(path, "an object", j);
  m.clear();
  for (const auto& [key, value] : j.items()) from_json(value, m[key], member_path(path, key));
}

// endpoint_key() read back. Port 0 is accepted (Endpoint::parse refuses it, but
// a recording holds what the collectors saw).
std::optional<Endpoint> parse_endpoint_key(std::string_view text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  auto address = IpAddress::parse(host);
  if (!address || bracketed != (address->family == IpAddress::Family::v6)) return std::nullopt;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value > 65535) {
    return std::nullopt;
  }
  return Endpoint{*address, static_cast<std::uint16_t>(value)};
}

template <class T>
void from_json(const json& j, std::map<Endpoint, T>& m, const std::string& path) {
  if (!j.is_object()) bad(path, "an object keyed by endpoint", j);
  m.clear();
  for (const auto& [key, value] : j.items()) {
    auto endpoint = parse_endpoint_key(key);
    if (!endpoint) {
      throw BadValue{path + ": bad endpoint " + json(key).dump() +
                     " (want IPV4:PORT or [IPV6]:PORT)"};
    }
    if (m.count(*endpoint) != 0) {
      throw BadValue{path + ": endpoint " + json(key).dump() + " given twice"};
    }
    from_json(value, m[*endpoint], member_path(path, key));
  }
}

template <HasFields T>
void from_json(const json& j, T& s, const std::string& path) {
  if (!j.is_object()) bad(path, "an object", j);
  s = T{};
  Reader r(j, path);
  fields(r, s);
  r.finish();
}

void from_json(const json& j, AssembleRules& rules, const std::string& path) {
  if (!j.is_object()) bad(path, "an object", j);
  rules = AssembleRules{};
  Reader r(j, path);
  std::vector<std::map<std::string, std::string>> deps;
  r("dependencies", deps);
  r("max_dependencies", rules.max_dependencies_per_workload);
  r.finish();
  for (std::size_t i = 0; i < deps.size(); ++i) {
    const std::string where = path + ".dependencies[" + std::to_string(i) + "]";
    auto& d = deps[i];
    if (d.size() != 2 || d.count("name") == 0 || d.count("endpoint") == 0) {
      throw BadValue{where + ": expected {\"name\": ..., \"endpoint\": ...}"};
    }
    auto rule = DependencyRule::parse(d["name"], d["endpoint"]);
    if (!rule) throw BadValue{where + ": " + rule.error().message};
    rules.dependencies.push_back(*rule);
  }
}

}  // namespace

std::string to_record_line(const RecordedWindow& w) {
  ojson line{{"version", kRecordVersion},
             {"time", format_record_time(w.time)},
             {"window", w.window},
             {"rules", to_json(w.rules)},
             {"node", to_json(w.evidence.node)},
             {"workloads", to_json(w.evidence.workloads)}};
  // A workload named from a process's comm may hold invalid UTF-8, which JSON cannot:
  // such bytes are written as U+FFFD rather than lose the window.
  return line.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

Result<RecordedWindow> parse_record_line(std::string_view line) {
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error{"not a JSON value"};
  if (!j.is_object() || !j.contains("version")) {
    return Error{"not a recorded window (no \"version\"; want {\"version\": 1, ...})"};
  }
  try {
    int version = 0;
    from_json(j["version"], version, "version");
    if (version != kRecordVersion) {
      return Error{"version " + std::to_string(version) + ": this boundwise reads version " +
                   std::to_string(kRecordVersion)};
    }
    RecordedWindow w;
    std::string time;
    Reader r(j, "");
    r("version", version);
    r("time", time);
    r("window", w.window);
    r("rules", w.rules);
    r("node", w.evidence.node);
    r("workloads", w.evidence.workloads);
    r.finish();
    auto t = parse_record_time(time);
    if (!t) return Error{"time: expected \"YYYY-MM-DDTHH:MM:SS.mmmZ\", got " + json(time).dump()};
    w.time = *t;
    return w;
  } catch (const BadValue& b) {
    return Error{b.message};
  }
}

std::string format_record_time(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  long millis = static_cast<long>(ms - static_cast<long long>(seconds) * 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_record_time(std::string_view text) {
  if (text.size() != 24) return std::nullopt;  // 2026-05-01T12:00:00.123Z
  std::tm tm{};
  int millis = 0;
  int consumed = 0;
  std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis, &consumed) != 7 ||
      consumed != 24) {
    return std::nullopt;
  }
  // system_clock counts nanoseconds in 64 bits: 1678 to 2262. Windows close after 1970.
  if (tm.tm_year < 1970 || tm.tm_year > 2261) return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t seconds = timegm(&tm);
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(seconds) +
                                                 std::chrono::milliseconds(millis));
  // Only the canonical spelling: timegm() normalises "02-30" or ":60" into another
  // time, which would not be written back as it was read.
  if (format_record_time(t) != text) return std::nullopt;
  return t;
}

}  // namespace boundwise
