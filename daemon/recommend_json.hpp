// The /recommend document (docs/API.md): JSON rendering of a Snapshot.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "daemon/snapshot.hpp"

namespace boundwise {

// The whole document; with `only_workload`, the same document holding just that
// workload (the caller checks it exists). With `history`, each workload's stability
// carries its recent windows.
nlohmann::json recommend_document(const Snapshot& snapshot,
                                  const std::optional<std::string>& only_workload = std::nullopt,
                                  bool history = false);

}  // namespace boundwise
