#include "collectors/cgroup/cgroup_collector.hpp"

namespace boundwise {

const CollectorDescriptor& cgroup_descriptor() {
  static const CollectorDescriptor d{
      .name = "cgroup",
      .help = "each workload's CPU limit (cgroup quota) and how often it was throttled",
      .factory = make_cgroup_collector,
  };
  return d;
}

}  // namespace boundwise
