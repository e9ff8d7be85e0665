// The `record` setting: the agent appends each window's evidence, one JSON line per
// window (daemon/evidence_json.hpp), to files `evidence-<UTC start time>.jsonl` in a
// directory, for `boundwise replay` and the golden tests (docs/ARCHITECTURE.md,
// "Record and replay").
//
// The evidence files together never exceed `max_bytes`: a file is closed at an
// eighth of it and a new one started, and before each line the oldest files are
// deleted until the line fits. Other files in the directory are left alone (and not
// counted). Recording never stops or slows the agent beyond one write() per window:
// a window that cannot be written (disk full, permissions, a line larger than
// max_bytes) is dropped, the first failure of a run of failures is logged, and
// record() says so for the agent to count it (boundwise_dropped_total{what="records"}).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "classifier/result.hpp"
#include "daemon/evidence_json.hpp"

namespace boundwise {

class Recorder {
 public:
  // Creates `dir` (and its parents) if missing and checks that it is a directory this
  // process may write. When the process is root and `owner_user` names a user (the
  // run_as_user the agent will switch to), a directory created here is given to that
  // user, so that the agent can still write it once it has switched. Error: what
  // failed, with the path.
  static Result<std::unique_ptr<Recorder>> open(const std::string& dir, std::uint64_t max_bytes,
                                                const std::string& owner_user = "");
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Appends the window as one line. False when it was not recorded (logged once per
  // run of failures). Never throws.
  bool record(const RecordedWindow& window);

  const std::string& dir() const { return dir_; }
  std::uint64_t max_bytes() const { return max_bytes_; }
  // Bytes of evidence files in the directory as this recorder last counted them.
  std::uint64_t bytes() const;

 private:
  Recorder(std::string dir, std::uint64_t max_bytes);
  void rescan();
  Status make_room(std::uint64_t line_bytes);
  Status open_new_file(std::chrono::system_clock::time_point now);
  Status append(const std::string& line);
  bool failed(const std::string& why);
  void close_file();

  std::string dir_;
  std::uint64_t max_bytes_;
  std::uint64_t file_limit_;
  // Evidence files in the directory (name → size), oldest first: the names sort by
  // start time.
  std::map<std::string, std::uint64_t> files_;
  std::string current_;  // name of the file being appended to; empty when none
  int fd_ = -1;
  std::uint64_t failures_in_a_row_ = 0;
};

}  // namespace boundwise
