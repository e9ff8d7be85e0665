// Reading a /recommend document defensively, for what renders it for people (the CLI,
// the web page): an absent key, null or a value of another type reads as "nothing",
// never an exception — the document may come from an agent of another version.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace boundwise::json_read {

// j[key], or null when j is not an object or has no such key.
inline const nlohmann::json& field(const nlohmann::json& j, const char* key) {
  static const nlohmann::json null;
  if (!j.is_object()) return null;
  auto it = j.find(key);
  return it == j.end() ? null : *it;
}

// j[key] when it is a number.
inline std::optional<double> number(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = field(j, key);
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

// j[key] when it is a string, else "".
inline std::string text(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = field(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace boundwise::json_read
