// The /recommend document (docs/API.md): JSON rendering of a Snapshot.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "classifier/figures.hpp"
#include "daemon/snapshot.hpp"

namespace boundwise {

// v rounded to 1/scale (round_to(x, 1e3): milliseconds of seconds); 0 for NaN and
// infinities, which JSON cannot spell.
double round_to(double v, double scale);

// "2026-12-05T04:23:52Z".
std::string iso8601(std::chrono::system_clock::time_point t);
std::string iso8601(double seconds_since_epoch);

// A window's figures (classifier/figures.hpp): throughput, latency in seconds,
// cores, memory in bytes, cost; absent figures are null.
nlohmann::json figures_json(const WindowFigures& f);

// The document's `schema_version`: the shape docs/recommend.schema.json describes.
// Bump it when a field is removed or renamed or changes type, meaning or unit (a
// dashboard or script reading the old shape would read wrong numbers); a field added
// is added to the schema without a bump.
inline constexpr int kRecommendSchemaVersion = 1;

// The whole document; with `only_workload`, the same document holding just that
// workload (the caller checks it exists). With `history`, each workload's stability
// carries its recent windows.
nlohmann::json recommend_document(const Snapshot& snapshot,
                                  const std::optional<std::string>& only_workload = std::nullopt,
                                  bool history = false);

}  // namespace boundwise
