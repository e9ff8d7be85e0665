#include "collectors/procfs/procfs_collector.hpp"

namespace boundwise {

const CollectorDescriptor& procfs_descriptor() {
  static const CollectorDescriptor d{
      .name = "procfs",
      .help = "target threads' state, syscall and socket, sampled; their counters (/proc)",
      .factory = make_procfs_collector,
  };
  return d;
}

}  // namespace boundwise
