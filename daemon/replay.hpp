// `boundwise replay DIR_OR_FILE [--json]`: the windows a recording holds
// (daemon/evidence_json.hpp) run offline through the same pure stages as in the
// agent, assemble → classify → recommend, with the rules recorded beside them. What
// classifier changes are checked against: the golden tests
// (tests/unit/daemon/golden_replay_test.cpp) replay real recordings from
// tests/golden/recordings/ and require the verdicts the live agent gave.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "classifier/result.hpp"
#include "classifier/verdict.hpp"
#include "daemon/evidence_json.hpp"

namespace boundwise {

struct ReplayedWorkload {
  std::string workload;
  Verdict verdict;
  Recommendation recommendation;
};

// One recorded window through assemble → classify → recommend, by workload name.
std::vector<ReplayedWorkload> replay_window(const RecordedWindow& window);

// The files a replay of `path` reads: the file itself, or the regular `*.jsonl` files
// directly in the directory, by name (the agent's file names sort by start time).
// Error: the path does not exist, or the directory holds no such file.
Result<std::vector<std::string>> recording_files(const std::string& path);

// Calls `each(line_number, window)` for every line of the file in order (blank lines
// are skipped). Error: "FILE:LINE: what is wrong" for the first line that is not a
// recorded window (no later line is read), or "FILE: ..." if it cannot be read.
Status for_each_recorded_window(
    const std::string& file,
    const std::function<void(std::size_t line, const RecordedWindow&)>& each);

// The subcommand: prints, per window and workload, the class, confidence, model and
// summary (text), or one JSON object per window and line (`json`). Returns the exit
// code: 0, or 2 with the error on `err` (a missing path, an unreadable file, a
// malformed line; the windows before it are printed).
int run_replay(const std::string& path, bool json, std::ostream& out, std::ostream& err);

}  // namespace boundwise
