// printf-style formatting for the classifier's rationale and recommendation text
// (format strings are checked by the compiler).
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

namespace boundwise {

inline std::string printf_string(const char* format, ...) __attribute__((format(printf, 1, 2)));
inline std::string printf_string(const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return buf;
}

// Bytes as a person reads them in a sentence: "120 MiB".
inline std::string mib(std::uint64_t bytes) {
  return printf_string("%.0f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

}  // namespace boundwise
