// The explicit list of collectors: adding one is one line in collectors.cpp
// (docs/ARCHITECTURE.md, "Adding a collector").
#pragma once

#include <memory>
#include <vector>

#include "collectors/collector.hpp"

namespace boundwise {

std::vector<std::unique_ptr<Collector>> make_collectors(const CollectorSettings& settings);

}  // namespace boundwise
