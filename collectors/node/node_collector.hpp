// The node collector: host-wide CPU busy ratio, core count, load and pressure stall
// information (/proc/stat, /proc/loadavg, /proc/pressure/*), into EvidenceSet::node.
#pragma once

#include <memory>

#include "collectors/collector.hpp"

namespace boundwise {

std::unique_ptr<Collector> make_node_collector(const CollectorSettings& settings);

// Its name, parts and options (collectors/descriptor.hpp); defined in descriptor.cpp.
const CollectorDescriptor& node_descriptor();

}  // namespace boundwise
