// Stored baselines (baselines.hpp).
#include "daemon/baselines.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/recommend_json.hpp"

namespace boundwise {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kFormat = "boundwise-baseline";
constexpr int kFormatVersion = 1;
// A baseline file is a few hundred bytes: anything much larger is not one.
constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t{64} * 1024;

std::string errno_text() { return std::strerror(errno); }

bool plain_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Workload names come from configs and process names: anything but the plain
// characters is written %XX, so that a name is one file name and never a path.
std::string file_safe(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (plain_char(c) && !(out.empty() && c == '.')) {
      out += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

// The value at `key`, of the JSON type `Kind` names; throws with the key's name.
const json& require(const json& j, const char* key, json::value_t type) {
  auto it = j.find(key);
  if (it == j.end()) throw std::runtime_error(std::string("missing \"") + key + "\"");
  const bool number = type == json::value_t::number_float && it->is_number();
  if (!number && it->type() != type) {
    throw std::runtime_error(std::string("\"") + key + "\" has the wrong type");
  }
  return *it;
}

double number_at(const json& j, const char* key) {
  return require(j, key, json::value_t::number_float).get<double>();
}

std::optional<double> optional_number_at(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) throw std::runtime_error(std::string("\"") + key + "\" is not a number");
  return it->get<double>();
}

std::string string_at(const json& j, const char* key) {
  return require(j, key, json::value_t::string).get<std::string>();
}

std::uint64_t bytes_at(const json& j, const char* key) {
  auto v = optional_number_at(j, key);
  if (!v) return 0;  // null: unknown, as bytes_or_null writes 0
  if (*v < 0) throw std::runtime_error(std::string("\"") + key + "\" is negative");
  return static_cast<std::uint64_t>(*v);
}

WindowFigures figures_from_json(const json& j) {
  if (!j.is_object()) throw std::runtime_error("\"figures\" is not an object");
  WindowFigures f;
  auto basis = throughput_basis_from_string(string_at(j, "throughput_basis"));
  if (!basis) throw std::runtime_error("unknown \"throughput_basis\"");
  f.basis = *basis;
  f.throughput_per_second = number_at(j, "throughput_per_second");
  if (auto it = j.find("latency_seconds"); it != j.end() && it->is_object()) {
    f.p50_seconds = optional_number_at(*it, "p50");
    f.p95_seconds = optional_number_at(*it, "p95");
    f.p99_seconds = optional_number_at(*it, "p99");
  }
  f.cpu_cores_used = number_at(j, "cpu_cores_used");
  f.node_busy_ratio = number_at(j, "node_busy_ratio");
  f.memory_bytes = bytes_at(j, "memory_bytes");
  f.memory_per_process_bytes = bytes_at(j, "memory_per_process_bytes");
  f.processes = static_cast<int>(number_at(j, "processes"));
  f.threads = static_cast<int>(number_at(j, "threads"));
  f.cost_per_month = optional_number_at(j, "cost_per_month");
  f.model_in_use = string_at(j, "model_in_use");
  if (auto it = j.find("dependency"); it != j.end() && it->is_string()) {
    f.dependency = it->get<std::string>();
  }
  f.dependency_in_flight = optional_number_at(j, "dependency_in_flight").value_or(0);
  f.dependency_p95_seconds = optional_number_at(j, "dependency_p95_seconds");
  return f;
}

// Writes `text` to `path` through a temporary file in the same directory: fsync, then
// rename over the old file, then fsync the directory.
Status write_atomically(const std::string& dir, const std::string& path, const std::string& text) {
  const std::string tmp =
      dir + "/.tmp-" + std::to_string(::getpid()) + "-" + fs::path(path).filename().string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Error{"create " + tmp + ": " + errno_text()};
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error e{"write " + tmp + ": " + errno_text()};
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Error e{"sync " + tmp + ": " + errno_text()};
    ::unlink(tmp.c_str());
    return e;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e{"rename " + tmp + " to " + path + ": " + errno_text()};
    ::unlink(tmp.c_str());
    return e;
  }
  if (int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    ::fsync(d);
    ::close(d);
  }
  return Ok{};
}

Result<Baseline> read_file(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) return Error{ec.message()};
  if (size > kMaxFileBytes) {
    return Error{"larger than " + std::to_string(kMaxFileBytes) + " bytes: not a baseline"};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open: " + errno_text()};
  std::ostringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str(), nullptr, false);
  if (j.is_discarded()) return Error{"not valid JSON"};
  return baseline_from_json(j);
}

}  // namespace

bool valid_baseline_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), plain_char);
}

json baseline_json(const Baseline& b) {
  return json{{"format", kFormat},
              {"version", kFormatVersion},
              {"workload", b.workload},
              {"name", b.name},
              {"created", iso8601(b.created_seconds)},
              {"created_seconds", round_to(b.created_seconds, 1e3)},
              {"windows", b.windows},
              {"first_window_end_seconds", round_to(b.first_window_end_seconds, 1e3)},
              {"last_window_end_seconds", round_to(b.last_window_end_seconds, 1e3)},
              {"class", std::string(to_string(b.bottleneck))},
              {"model", std::string(to_string(b.model))},
              {"currency", b.currency.empty() ? json(nullptr) : json(b.currency)},
              {"figures", figures_json(b.figures)}};
}

Result<Baseline> baseline_from_json(const json& j) {
  try {
    if (!j.is_object()) return Error{"not a JSON object"};
    if (string_at(j, "format") != kFormat)
      return Error{"\"format\" is not " + std::string(kFormat)};
    if (number_at(j, "version") != kFormatVersion) {
      return Error{"format version " + std::to_string(number_at(j, "version")) +
                   " (this agent reads " + std::to_string(kFormatVersion) + ")"};
    }
    Baseline b;
    b.workload = string_at(j, "workload");
    b.name = string_at(j, "name");
    if (!valid_baseline_name(b.name)) return Error{"invalid \"name\""};
    b.created_seconds = number_at(j, "created_seconds");
    b.windows = static_cast<int>(number_at(j, "windows"));
    if (b.windows < 1) return Error{"\"windows\" is below 1"};
    b.first_window_end_seconds = number_at(j, "first_window_end_seconds");
    b.last_window_end_seconds = number_at(j, "last_window_end_seconds");
    auto bottleneck = bottleneck_from_string(string_at(j, "class"));
    if (!bottleneck) return Error{"unknown \"class\""};
    b.bottleneck = *bottleneck;
    auto model = model_from_string(string_at(j, "model"));
    if (!model) return Error{"unknown \"model\""};
    b.model = *model;
    if (auto it = j.find("currency"); it != j.end() && it->is_string()) {
      b.currency = it->get<std::string>();
    }
    b.figures = figures_from_json(require(j, "figures", json::value_t::object));
    return b;
  } catch (const std::exception& e) {
    return Error{e.what()};
  }
}

json comparison_json(const Comparison& c) {
  auto optional = [](const std::optional<double>& v, double scale) {
    return v ? json(round_to(*v, scale)) : json(nullptr);
  };
  return json{{"throughput_change", optional(c.throughput_change, 1e4)},
              {"p95_change", optional(c.p95_change, 1e4)},
              {"p99_change", optional(c.p99_change, 1e4)},
              {"cpu_cores_change", round_to(c.cpu_cores_change, 1e3)},
              {"memory_change_bytes", round_to(c.memory_change_bytes, 1)},
              {"cost_change_per_month", optional(c.cost_change_per_month, 1e2)},
              {"verdict", c.verdict},
              {"summary", c.summary}};
}

BaselineStore::BaselineStore(std::string state_dir, std::size_t max_baselines)
    : dir_(std::move(state_dir) + "/baselines"), max_(max_baselines) {
  std::error_code ec;
  if (!fs::is_directory(dir_, ec)) return;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.' || it->path().extension() != ".json") continue;
    files.push_back(it->path());
  }
  if (ec) skipped_.push_back({dir_, "cannot list: " + ec.message()});
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    auto b = read_file(path);
    if (!b) {
      skipped_.push_back({path.string(), b.error().message});
    } else if (path.filename().string() != fs::path(path_of(b->workload, b->name)).filename()) {
      skipped_.push_back({path.string(), "its workload and name do not match the file name"});
    } else if (baselines_.size() >= max_) {
      skipped_.push_back({path.string(), "over max_baselines (" + std::to_string(max_) + ")"});
    } else {
      baselines_[{b->workload, b->name}] = std::move(*b);
    }
  }
}

std::string BaselineStore::path_of(const std::string& workload, const std::string& name) const {
  return dir_ + "/" + file_safe(workload) + "@" + name + ".json";
}

std::vector<Baseline> BaselineStore::list(const std::optional<std::string>& workload) const {
  std::lock_guard lock(mutex_);
  std::vector<Baseline> out;
  for (const auto& [key, b] : baselines_) {
    if (!workload || key.first == *workload) out.push_back(b);
  }
  return out;
}

std::optional<Baseline> BaselineStore::get(const std::string& workload,
                                           const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = baselines_.find({workload, name});
  if (it == baselines_.end()) return std::nullopt;
  return it->second;
}

Result<bool> BaselineStore::put(const Baseline& b) {
  if (!valid_baseline_name(b.name)) {
    return Error{"a baseline name is 1 to 64 of A-Z a-z 0-9 . _ -"};
  }
  const std::string path = path_of(b.workload, b.name);
  if (fs::path(path).filename().string().size() > 255) {
    return Error{"the workload's name is too long for a baseline file name"};
  }
  std::lock_guard lock(mutex_);
  const bool replaces = baselines_.count({b.workload, b.name}) != 0;
  if (!replaces && baselines_.size() >= max_) {
    return Error{"the store holds max_baselines (" + std::to_string(max_) +
                 ") already: delete one first"};
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Error{"cannot create " + dir_ + ": " + ec.message()};
  if (auto st = write_atomically(dir_, path, baseline_json(b).dump(2) + "\n"); !st) {
    return st.error();
  }
  baselines_[{b.workload, b.name}] = b;
  return replaces;
}

Result<bool> BaselineStore::remove(const std::string& workload, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto it = baselines_.find({workload, name});
  if (it == baselines_.end()) return false;
  const std::string path = path_of(workload, name);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Error{"delete " + path + ": " + errno_text()};
  }
  baselines_.erase(it);
  return true;
}

std::vector<BaselineStore::Skipped> BaselineStore::skipped() const { return skipped_; }

}  // namespace boundwise
