// Stored baselines (docs/API.md, "/baselines"): a workload's figures before a change,
// kept in the state directory so that they outlive the agent, and compared with the
// figures after it (GET /compare). One JSON file per baseline,
// `STATE_DIR/baselines/WORKLOAD@NAME.json` (WORKLOAD percent-encoded), written to a
// temporary file and renamed, so that a crash leaves the old file or the new one.
//
// The directory is created by the first baseline stored, not at start: an agent that
// never stores one writes nothing. A file that cannot be read or parsed is reported
// (skipped(), logged by the agent) and left alone, never fatal.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "classifier/baseline.hpp"
#include "classifier/result.hpp"

namespace boundwise {

// A baseline name: 1 to 64 of A-Z a-z 0-9 . _ - (it is part of a file name).
bool valid_baseline_name(std::string_view name);

nlohmann::json baseline_json(const Baseline& b);
// The file and answer format back into a Baseline. Error: what is missing or wrong.
Result<Baseline> baseline_from_json(const nlohmann::json& j);
nlohmann::json comparison_json(const Comparison& c);

class BaselineStore {
 public:
  struct Skipped {
    std::string file;
    std::string error;
  };

  // Reads the baselines already in `state_dir`/baselines (none if it is missing), at
  // most `max_baselines` (the first by file name; the rest are skipped).
  BaselineStore(std::string state_dir, std::size_t max_baselines);

  const std::string& dir() const { return dir_; }  // STATE_DIR/baselines
  std::size_t max_baselines() const { return max_; }

  // Every baseline, or the workload's, by workload then name.
  std::vector<Baseline> list(const std::optional<std::string>& workload = std::nullopt) const;
  std::optional<Baseline> get(const std::string& workload, const std::string& name) const;
  // Stores (or replaces) a baseline on disk, then in memory. True: it replaced one.
  // Error: the name is invalid, the store is full, or the file could not be written
  // (the message says which and why).
  Result<bool> put(const Baseline& b);
  // Removes one. False: there was none.
  Result<bool> remove(const std::string& workload, const std::string& name);
  // Files found at start that could not be used.
  std::vector<Skipped> skipped() const;

 private:
  std::string path_of(const std::string& workload, const std::string& name) const;

  std::string dir_;
  std::size_t max_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Baseline> baselines_;  // guarded by mutex_
  std::vector<Skipped> skipped_;                                       // set at construction
};

}  // namespace boundwise
