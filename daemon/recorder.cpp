// The recorder: evidence files, their rotation within max_bytes, and failures that
// cost a window's record but never the agent.
#include "daemon/recorder.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <system_error>

namespace boundwise {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPrefix = "evidence-";
constexpr std::string_view kSuffix = ".jsonl";

bool is_evidence_file(const std::string& name) {
  return name.size() > kPrefix.size() + kSuffix.size() && name.rfind(kPrefix, 0) == 0 &&
         name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

// "evidence-20260501T120000.123Z.jsonl": sorts by time, no ':' (awkward in file names).
std::string file_name(std::chrono::system_clock::time_point t) {
  std::string stamp = format_record_time(t);  // 2026-05-01T12:00:00.123Z
  std::string compact;
  for (char c : stamp) {
    if (c != '-' && c != ':') compact += c;
  }
  return std::string(kPrefix) + compact + std::string(kSuffix);
}

// The time in a file_name(); nullopt for other names.
std::optional<std::chrono::system_clock::time_point> name_time(const std::string& name) {
  if (name.size() != file_name({}).size() || !is_evidence_file(name)) return std::nullopt;
  std::string c = name.substr(kPrefix.size());  // 20260501T120000.123Z.jsonl
  std::string stamp = c.substr(0, 4) + "-" + c.substr(4, 2) + "-" + c.substr(6, 5) + ":" +
                      c.substr(11, 2) + ":" + c.substr(13, 7);
  return parse_record_time(stamp);
}

std::string errno_text() { return std::strerror(errno); }

std::shared_ptr<spdlog::logger> log() {
  auto l = spdlog::get("agent");
  return l ? l : spdlog::default_logger();
}

}  // namespace

Result<std::unique_ptr<Recorder>> Recorder::open(const std::string& dir, std::uint64_t max_bytes,
                                                 const std::string& owner_user) {
  if (dir.empty()) return Error{"record: no directory given"};
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return Error{"record: " + dir + " exists and is not a directory"};
  }
  const bool created = fs::create_directories(dir, ec);
  if (ec) return Error{"record: cannot create the directory " + dir + ": " + ec.message()};
  if (created && !owner_user.empty() && ::geteuid() == 0) {
    // An unknown user is drop_privileges()'s error to report; nothing to give here.
    if (passwd* pw = ::getpwnam(owner_user.c_str())) {
      if (::chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
        return Error{"record: cannot give " + dir + " to run_as_user " + owner_user + ": " +
                     errno_text()};
      }
    }
  }
  if (::faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
    return Error{"record: cannot write to " + dir + ": " + errno_text()};
  }
  std::unique_ptr<Recorder> r(new Recorder(dir, max_bytes));
  r->rescan();
  return r;
}

Recorder::Recorder(std::string dir, std::uint64_t max_bytes)
    : dir_(std::move(dir)),
      max_bytes_(max_bytes),
      file_limit_(std::max<std::uint64_t>(1, max_bytes / 8)) {}

Recorder::~Recorder() { close_file(); }

std::uint64_t Recorder::bytes() const {
  std::uint64_t total = 0;
  for (const auto& [name, size] : files_) total += size;
  return total;
}

// Counts the evidence files now in the directory: earlier runs' files count against
// max_bytes too, and files someone else deleted stop counting.
void Recorder::rescan() {
  std::map<std::string, std::uint64_t> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code size_ec;
    if (!is_evidence_file(name) || !it->is_regular_file(size_ec)) continue;
    auto size = it->file_size(size_ec);
    found[name] = size_ec ? 0 : size;
  }
  if (!current_.empty()) found[current_] = files_[current_];
  files_ = std::move(found);
}

void Recorder::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  current_.clear();
}

// A new file's name must sort after every file of ours already there: they are deleted
// oldest name first. Two files within a millisecond, or a wall clock stepped back,
// would otherwise name the newest file first.
Status Recorder::open_new_file(std::chrono::system_clock::time_point now) {
  close_file();
  rescan();
  std::chrono::system_clock::time_point t =
      std::chrono::time_point_cast<std::chrono::milliseconds>(now);
  for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
    if (auto newest = name_time(it->first)) {
      if (*newest >= t) t = *newest + std::chrono::milliseconds(1);
      break;
    }
  }
  for (int attempt = 0; attempt < 100; ++attempt, t += std::chrono::milliseconds(1)) {
    std::string name = file_name(t);
    std::string path = dir_ + "/" + name;
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd >= 0) {
      fd_ = fd;
      current_ = name;
      files_[name] = 0;
      return Ok{};
    }
    if (errno != EEXIST) return Error{"cannot create " + path + ": " + errno_text()};
  }
  return Error{"cannot create a new evidence file in " + dir_ + ": every name taken"};
}

// Deletes the oldest evidence files (never the one being written) until `line_bytes`
// more fit in max_bytes.
Status Recorder::make_room(std::uint64_t line_bytes) {
  std::uint64_t total = bytes();
  for (auto it = files_.begin(); total + line_bytes > max_bytes_ && it != files_.end();) {
    if (it->first == current_) {
      ++it;
      continue;
    }
    std::string path = dir_ + "/" + it->first;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Error{"cannot delete " + path + " to stay within record_max_bytes: " + errno_text()};
    }
    total -= it->second;
    it = files_.erase(it);
  }
  if (total + line_bytes > max_bytes_) {
    return Error{"the file being written already holds record_max_bytes"};  // not reached
  }
  return Ok{};
}

Status Recorder::append(const std::string& line) {
  const std::uint64_t before = files_[current_];
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string why = n < 0 ? errno_text() : "nothing written";
      // No half line left behind: a replay would stop at it.
      if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(before)) != 0) {
        why += " (and the partial line could not be removed)";
      }
      std::string path = dir_ + "/" + current_;
      close_file();
      return Error{"writing " + path + ": " + why};
    }
    done += static_cast<std::size_t>(n);
  }
  files_[current_] = before + line.size();
  return Ok{};
}

bool Recorder::failed(const std::string& why) {
  if (failures_in_a_row_++ == 0) {
    log()->warn(
        "record: window not recorded: {} (said once until recording works again; counted in "
        "boundwise_dropped_total{{what=\"records\"}})",
        why);
  }
  return false;
}

bool Recorder::record(const RecordedWindow& window) {
  std::string line;
  try {
    line = to_record_line(window) + "\n";
  } catch (const std::exception& e) {
    return failed(std::string("cannot serialise the window: ") + e.what());
  }
  const std::uint64_t size = line.size();
  if (size > max_bytes_) {
    return failed("the window's evidence is " + std::to_string(size) +
                  " bytes, more than record_max_bytes (" + std::to_string(max_bytes_) + ")");
  }
  if (fd_ >= 0 && files_[current_] > 0 && files_[current_] + size > file_limit_) close_file();
  if (fd_ < 0) {
    if (auto st = open_new_file(std::chrono::system_clock::now()); !st) {
      return failed(st.error().message);
    }
  }
  if (auto st = make_room(size); !st) return failed(st.error().message);
  if (auto st = append(line); !st) return failed(st.error().message);
  if (failures_in_a_row_ > 0) {
    log()->info("record: recording again; windows not recorded meanwhile: {}", failures_in_a_row_);
    failures_in_a_row_ = 0;
  }
  return true;
}

}  // namespace boundwise
