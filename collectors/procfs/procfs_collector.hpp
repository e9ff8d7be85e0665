// The procfs collector: samples every thread of every target at the sample rate
// (state, syscall, fd → endpoint) and reads cumulative counters (schedstat, stat,
// status, io, smaps_rollup) to account each thread's time to a wait reason.
// See docs/CLASSIFIER.md ("How time is attributed") for the rules.
#pragma once

#include <memory>

#include "collectors/collector.hpp"

namespace boundwise {

std::unique_ptr<Collector> make_procfs_collector(const CollectorSettings& settings);

// Its name, parts and options (collectors/descriptor.hpp); defined in descriptor.cpp.
const CollectorDescriptor& procfs_descriptor();

}  // namespace boundwise
