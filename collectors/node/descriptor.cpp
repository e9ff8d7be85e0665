#include "collectors/node/node_collector.hpp"

namespace boundwise {

const CollectorDescriptor& node_descriptor() {
  static const CollectorDescriptor d{
      .name = "node",
      .help = "host CPU busy ratio, cores, load, pressure stall information (/proc)",
      .factory = make_node_collector,
  };
  return d;
}

}  // namespace boundwise
