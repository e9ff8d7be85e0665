// The cgroup collector: the CPU limit each workload runs under (its cgroup's CPU
// bandwidth quota — a Kubernetes CPU limit is one) and how often the kernel throttled
// it in the window, from the cgroup filesystem (v1 and v2). Into
// WorkloadEvidence::cpu_limit; nothing for a workload without a limit. Reads world-
// readable files only; no privilege needed.
#pragma once

#include <memory>

#include "collectors/collector.hpp"

namespace boundwise {

std::unique_ptr<Collector> make_cgroup_collector(const CollectorSettings& settings);

// Its name, parts and options (collectors/descriptor.hpp); defined in descriptor.cpp.
const CollectorDescriptor& cgroup_descriptor();

}  // namespace boundwise
