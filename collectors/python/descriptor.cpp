#include "collectors/python/python_collector.hpp"

namespace boundwise {

const CollectorDescriptor& python_descriptor() {
  static const CollectorDescriptor d{
      .name = "python",
      .help = "each target's runtime (CPython version) and GIL, from its memory",
      .factory = make_python_collector,
  };
  return d;
}

}  // namespace boundwise
