// Small I/O helpers for reading procfs from kept fds and directory fds. Internal to
// the procfs collector.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boundwise::procfs {

// An fd that closes itself.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Reads a whole small procfs file from a kept fd into buf; returns the text or
// nullopt (the task is gone or the read was refused).
inline std::optional<std::string_view> pread_text(int fd, std::string& buf) {
  if (fd < 0) return std::nullopt;
  if (buf.size() < 4096) buf.resize(4096);
  ssize_t n = ::pread(fd, buf.data(), buf.size(), 0);
  if (n < 0) return std::nullopt;
  return std::string_view(buf.data(), static_cast<std::size_t>(n));
}

inline std::optional<std::string> read_at(int dirfd, const char* path) {
  Fd fd(::openat(dirfd, path, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) return std::nullopt;
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > (64u << 20)) break;
  }
  return out;
}

inline std::vector<int> list_numeric(int dirfd, const char* path) {
  std::vector<int> out;
  int fd = ::openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return out;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return out;
  }
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long v = std::strtol(e->d_name, &end, 10);
    if (end != e->d_name && *end == '\0' && v >= 0) out.push_back(static_cast<int>(v));
  }
  ::closedir(dir);
  return out;
}

}  // namespace boundwise::procfs
