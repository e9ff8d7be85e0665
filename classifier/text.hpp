// printf-style formatting for the classifier's rationale and recommendation text
// (format strings are checked by the compiler).
#pragma once

#include <cstdarg>
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

}  // namespace boundwise
