// The /recommend document (docs/API.md): JSON rendering of a Snapshot.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "daemon/snapshot.hpp"

namespace boundwise {

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
