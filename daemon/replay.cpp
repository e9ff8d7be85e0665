// Replay: reading recordings line by line and running the pure stages on each window.
#include "daemon/replay.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "classifier/assemble/assemble.hpp"
#include "classifier/classify.hpp"

namespace boundwise {

namespace fs = std::filesystem;

std::vector<ReplayedWorkload> replay_window(const RecordedWindow& window) {
  std::vector<ReplayedWorkload> out;
  for (auto& [name, win] : assemble(window.evidence, window.rules)) {
    ReplayedWorkload r;
    r.workload = name;
    r.verdict = classify(win);
    r.recommendation = recommend(r.verdict, win);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<std::string>> recording_files(const std::string& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    return Error{path + ": " + (ec ? ec.message() : "No such file or directory")};
  }
  if (!fs::is_directory(status)) return std::vector<std::string>{path};
  std::vector<std::string> files;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->path().extension() == ".jsonl" && it->is_regular_file(type_ec)) {
      files.push_back(it->path().string());
    }
  }
  if (ec) return Error{path + ": " + ec.message()};
  if (files.empty()) return Error{path + ": no *.jsonl recording in this directory"};
  std::sort(files.begin(), files.end());
  return files;
}

Status for_each_recorded_window(
    const std::string& file,
    const std::function<void(std::size_t line, const RecordedWindow&)>& each) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) return Error{file + ": is a directory"};
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{file + ": cannot read the file"};
  std::string text;
  for (std::size_t number = 1; std::getline(in, text); ++number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto window = parse_record_line(text);
    if (!window) {
      // getline stopped at the end of the file, not at a newline.
      const bool cut = in.eof();
      return Error{file + ":" + std::to_string(number) + ": " + window.error().message +
                   (cut ? " (the last line has no newline: cut off while being written?)" : "")};
    }
    each(number, *window);
  }
  if (in.bad()) return Error{file + ": read error"};
  return Ok{};
}

namespace {

std::string fixed2(double v) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(2) << v;
  return s.str();
}

void print_text(const std::string& file, std::size_t line, const RecordedWindow& w,
                const std::vector<ReplayedWorkload>& workloads, std::ostream& out) {
  out << format_record_time(w.time) << " window " << w.window << " (" << file << ":" << line
      << "): " << workloads.size() << (workloads.size() == 1 ? " workload" : " workloads") << "\n";
  for (const auto& r : workloads) {
    out << "  " << r.workload << ": " << to_string(r.verdict.bottleneck) << " (confidence "
        << fixed2(r.verdict.confidence) << ") → " << to_string(r.recommendation.model);
    if (r.recommendation.workers > 0) out << ", " << r.recommendation.workers << " workers";
    out << ": " << r.recommendation.summary << "\n";
  }
}

void print_json(const std::string& file, std::size_t line, const RecordedWindow& w,
                const std::vector<ReplayedWorkload>& workloads, std::ostream& out) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : workloads) {
    list.push_back({{"workload", r.workload},
                    {"class", std::string(to_string(r.verdict.bottleneck))},
                    {"confidence", r.verdict.confidence},
                    {"model", std::string(to_string(r.recommendation.model))},
                    {"workers", r.recommendation.workers},
                    {"summary", r.recommendation.summary}});
  }
  nlohmann::json doc{{"file", file},
                     {"line", line},
                     {"time", format_record_time(w.time)},
                     {"window", w.window},
                     {"workloads", std::move(list)}};
  // Names come from the recording: replace invalid UTF-8 rather than throw.
  out << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace

int run_replay(const std::string& path, bool json, std::ostream& out, std::ostream& err) {
  auto files = recording_files(path);
  if (!files) {
    err << "replay: " << files.error().message << "\n";
    return 2;
  }
  for (const auto& file : *files) {
    Status st = for_each_recorded_window(file, [&](std::size_t line, const RecordedWindow& w) {
      auto workloads = replay_window(w);
      (json ? print_json : print_text)(file, line, w, workloads, out);
    });
    if (!st) {
      out.flush();
      err << "replay: " << st.error().message << "\n";
      return 2;
    }
  }
  return 0;
}

}  // namespace boundwise
