// The explicit list of collectors (STYLE.md rule 3): adding one is one line in
// collectors.cpp.
#pragma once

#include <memory>
#include <vector>

#include "collectors/collector.hpp"

namespace boundwise {

std::vector<std::unique_ptr<Collector>> make_collectors(const CollectorSettings& settings);

}  // namespace boundwise
