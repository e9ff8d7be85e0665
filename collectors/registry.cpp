// The collector list. A new collector is its own folder plus one line here.
#include "collectors/registry.hpp"

#include "collectors/cgroup/cgroup_collector.hpp"
#include "collectors/ebpf/ebpf_collector.hpp"
#include "collectors/node/node_collector.hpp"
#include "collectors/procfs/procfs_collector.hpp"
#include "collectors/python/python_collector.hpp"
#include "collectors/stacks/stacks_collector.hpp"

namespace boundwise {

const CollectorDescriptors& collector_descriptors() {
  static const CollectorDescriptors list = {
      &node_descriptor(), &procfs_descriptor(), &python_descriptor(),
      &ebpf_descriptor(), &cgroup_descriptor(), &stacks_descriptor(),
  };
  return list;
}

}  // namespace boundwise
