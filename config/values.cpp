// The config's value parsers (config.hpp: durations, byte sizes, listen addresses)
// and its non-blocking file read (values.hpp).
#include "config/values.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "config/config.hpp"

namespace boundwise {

std::optional<std::string> read_regular_file(const std::string& path, std::string& why) {
  constexpr off_t kMaxBytes = 1 << 20;
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  std::optional<std::string> out;
  if (::fstat(fd, &st) != 0) {
    why = std::strerror(errno);
  } else if (S_ISDIR(st.st_mode)) {
    why = "is a directory";
  } else if (!S_ISREG(st.st_mode)) {
    why = "not a regular file (a FIFO, socket or device)";
  } else if (st.st_size > kMaxBytes) {
    why = "larger than 1 MiB";
  } else {
    std::string text;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() <= kMaxBytes) {
      text.append(buf, static_cast<std::size_t>(n));
    }
    if (n < 0) {
      why = std::strerror(errno);
    } else {
      out = std::move(text);
    }
  }
  ::close(fd);
  return out;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 9) return std::nullopt;
  long long value = 0;
  std::from_chars(text.data(), text.data() + digits, value);
  std::string_view unit = text.substr(digits);
  long long ms = 0;
  if (unit == "ms") {
    ms = value;
  } else if (unit == "s") {
    ms = value * 1000;
  } else if (unit == "m") {
    ms = value * 60'000;
  } else if (unit == "h") {
    ms = value * 3'600'000;
  } else {
    return std::nullopt;
  }
  if (ms <= 0) return std::nullopt;
  return std::chrono::milliseconds(ms);
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, value);
  if (digits == 0 || ec != std::errc()) return std::nullopt;
  std::string_view unit = text.substr(digits);
  int shift = 0;
  if (unit == "KiB") {
    shift = 10;
  } else if (unit == "MiB") {
    shift = 20;
  } else if (unit == "GiB") {
    shift = 30;
  } else if (unit == "TiB") {
    shift = 40;
  } else if (!unit.empty()) {
    return std::nullopt;
  }
  if (shift > 0 && value > (~std::uint64_t{0} >> shift)) return std::nullopt;
  return value << shift;
}

std::optional<std::pair<std::string, std::uint16_t>> parse_listen_address(std::string_view text) {
  auto endpoint = Endpoint::parse(text);
  if (!endpoint) {
    // Port 0 (any free port) is accepted for listening; Endpoint::parse rejects it.
    if (text.size() > 2 && text.substr(text.size() - 2) == ":0") {
      auto base = Endpoint::parse(std::string(text.substr(0, text.size() - 2)) + ":1");
      if (base) return std::make_pair(base->address.to_string(), std::uint16_t{0});
    }
    return std::nullopt;
  }
  return std::make_pair(endpoint->address.to_string(), endpoint->port);
}

}  // namespace boundwise
